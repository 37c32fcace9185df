#pragma once
// The standard process_* series every Prometheus client library exports (prometheus-cpp 1.0 has none): resident
// and virtual memory, CPU seconds, open and maximum file descriptors, start time. Read from /proc/self at each
// scrape; a value that cannot be read is left out, never made up.
#include <vector>

#include <prometheus/metric_family.h>

namespace canary_guard::app {

std::vector<prometheus::MetricFamily> process_families();

}  // namespace canary_guard::app
