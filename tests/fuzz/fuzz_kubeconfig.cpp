// Fuzz target: the kubeconfig loader (daemon/kube/kubeconfig.*): YAML through yaml-cpp, merging of several files
// (first definition of a name wins), base64 *-data fields, server URLs, exec plugin specs, then the proxy check
// (check_no_proxy) on what loaded. load_kubeconfig reads files, so each input is written to a private scratch
// directory first (tmpfs when TMPDIR points there); relative paths inside it resolve against that directory.
//
// Input layout: up to two kubeconfig files separated by a line "---8<---"; both are passed, as KUBECONFIG=a:b would.
// When it loads, the context namespace doubles as the NO_PROXY value for check_no_proxy.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/kube/kubeconfig.hpp"

namespace {

using namespace canary_guard;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_kubeconfig: invariant broken: %s\n", what);
  std::abort();
}

const std::string& scratch_dir() {
  // Never destroyed, so the atexit handler below can still read it (it is registered before the string exists).
  static const std::string* const dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/cg-fuzz-kubeconfig-XXXXXX";
    if (!mkdtemp(templ.data())) fail("mkdtemp failed");
    // Gone at a normal exit; a crash leaves it, next to the input that crashed, for a look.
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return new std::string(templ);
  }();
  return *dir;
}

void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) fail("cannot write the scratch file");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view sep = "\n---8<---\n";
  std::vector<std::string> paths;
  const auto cut = text.find(sep);
  paths.push_back(scratch_dir() + "/a.yaml");
  write_file(paths.back(), text.substr(0, cut));
  if (cut != std::string_view::npos) {
    paths.push_back(scratch_dir() + "/b.yaml");
    write_file(paths.back(), text.substr(cut + sep.size()));
  }
  auto c = kube::load_kubeconfig(paths, "");
  if (!c) {
    if (c.error().empty()) fail("rejected without a message");
    return 0;
  }
  if (c->host.empty()) fail("loaded without a host");
  if (c->ca_pem.empty() == !c->insecure_skip_tls_verify) fail("CA presence and insecure-skip-tls-verify disagree");
  if (c->client_cert_pem.empty() != c->client_key_pem.empty()) fail("client certificate without key or back");
  const std::string no_proxy = c->ns;
  (void)kube::check_no_proxy(*c, [&](const char* name) -> const char* {
    const std::string_view n(name);
    if (n == "HTTPS_PROXY") return "http://proxy.example:3128";
    if (n == "NO_PROXY") return no_proxy.c_str();
    return nullptr;
  });
  return 0;
}
