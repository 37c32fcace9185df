# Installation layout and the Debian package (issue #13 §2). `cmake --install` places the binary, the systemd unit,
# the sysusers/tmpfiles entries, /etc/default/canary-guard, the example configuration under /etc/canary-guard/ and
# the docs; `cpack -G DEB` (in a configured tree, e.g. build/ci) wraps the same files into canary-guard_<v>_<arch>.deb.
# tests/package/test_deb.sh (ctest package_deb) builds, inspects, installs, runs and removes it.
#
# The unit runs /usr/bin/canary-guard, so the package installs under /usr whatever CMAKE_INSTALL_PREFIX says.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/canary-guard)
install(FILES ${PROJECT_SOURCE_DIR}/config/manifests/rbac.yaml ${PROJECT_SOURCE_DIR}/config/manifests/rbac-namespaced.yaml
  DESTINATION share/doc/canary-guard/manifests)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME canary-guard)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "canary-guard maintainers <maintainers@canary-guard.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "automatic rollback of bad Kubernetes releases")
set(CPACK_PACKAGE_DESCRIPTION "canary-guard watches Deployments and DaemonSets and rolls a bad release back to the\
 last revision it verified healthy, as kubectl rollout undo --to-revision would.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries are ~10x larger with their debug info
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries (Boost is header-only here; OpenSSL, spdlog, fmt, yaml-cpp, simdjson, prometheus-cpp, toml++,
# libsystemd) as dpkg-shlibdeps finds them in the binary, so the list cannot drift from what is linked.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# systemd-sysusers / systemd-tmpfiles create the user and /etc/canary-guard; without systemd, adduser does.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles ${PROJECT_SOURCE_DIR}/cmake/deb/postinst
  ${PROJECT_SOURCE_DIR}/cmake/deb/prerm ${PROJECT_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
