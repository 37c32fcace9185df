#include "daemon/app/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace canary_guard::app {

namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {m}};
}

}  // namespace

std::vector<prometheus::MetricFamily> process_families() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (stat && std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream in(line.substr(close + 2));
      std::vector<std::string> f;
      for (std::string x; in >> x;) f.push_back(x);
      // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
      if (f.size() > 21 && ticks > 0) {
        const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
        out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                             MetricType::Counter, cpu));
        std::ifstream uptime_file("/proc/stat");
        double btime = 0;
        for (std::string l; std::getline(uptime_file, l);)
          if (l.rfind("btime ", 0) == 0) btime = std::stod(l.substr(6));
        if (btime > 0)
          out.push_back(family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                               MetricType::Gauge, btime + std::stod(f[19]) / ticks));
        out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                             std::stod(f[20])));
        out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                             std::stod(f[21]) * page));
      }
    }
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++fds;
  if (!ec) out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, static_cast<double>(fds)));
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0)
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                         static_cast<double>(rl.rlim_cur)));
  return out;
}

}  // namespace canary_guard::app
