// Informer is a template (informer.hpp); this file instantiates it for the views the daemon uses so that template
// errors show up when cg_daemon builds, not first in a caller.
#include "daemon/kube/informer.hpp"

namespace canary_guard::kube {
template class Informer<probes::DeploymentView>;
template class Informer<probes::ReplicaSetView>;
template class Informer<probes::DaemonSetView>;
template class Informer<probes::ControllerRevisionView>;
template class Informer<probes::PodView>;
}  // namespace canary_guard::kube
