# Turns bench/scaling.sh's results into the "How cost grows with the work"
# section of docs/BENCHMARKS.md (printed on stdout) and its SVG charts.
# Usage: ruby bench/scaling.rb RESULTS.jsonl SVG_DIR SVG_DIR_AS_LINKED
require "json"
require_relative "plot"

results = File.readlines(ARGV.fetch(0)).filter_map do |l|
  JSON.parse(l)
rescue JSON::ParserError
  nil
end
dir = ARGV.fetch(1)
link = ARGV.fetch(2)
Dir.mkdir(dir) unless Dir.exist?(dir)

def pick(results, kind, series) = results.select { |r| r["kind"] == kind && r["series"] == series && r["finished"] }
def n0(v) = v.nil? ? "n/a" : v.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
def f1(v) = v.nil? ? "n/a" : format("%.1f", v)
def f2(v) = v.nil? ? "n/a" : format("%.2f", v)

out = []
out << "## How cost grows with the work"
out << ""
out << "`errand worker` processes at their defaults (concurrency 10, job logger on, to a file), started"
out << "by `build/errand_outside` after the jobs were pushed (errand's `push_bulk`, 1,000 a call) and timed"
out << "from outside until the store shows every job acknowledged (bench/scaling.sh). Rates are over the"
out << "whole push and the whole drain, so a backlog of N is the average over N..0 jobs waiting."
out << "CPU is user+sys of the worker processes (and of redis-server) divided by the jobs."
out << ""

backlog = %w[redis sqlite].to_h { |kind| [kind, pick(results, kind, "backlog").sort_by { |r| r["jobs"] }] }
backlog.reject! { |_, rows| rows.empty? }
unless backlog.empty?
  %w[drain push].each do |what|
    Plot.chart(File.join(dir, "backlog-#{what}.svg"), title: "#{what == "drain" ? "Drain" : "push_bulk"} rate with N jobs waiting",
      xlabel: "jobs waiting (log scale)", ylabel: "jobs/s", log_x: true,
      series: backlog.to_h { |kind, rows| [kind, rows.map { |r| [r["jobs"], r["#{what}_rate"]] }] })
  end
  out << "### Backlog"
  out << ""
  out << "![drain rate by backlog](#{link}/backlog-drain.svg) ![push rate by backlog](#{link}/backlog-push.svg)"
  out << ""
  out << "| store | jobs waiting | push (jobs/s) | drain (jobs/s) | worker CPU/job (µs) | redis-server CPU/job (µs) | store bytes per waiting job ¹ | worker peak RSS (MB) |"
  out << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  backlog.each do |kind, rows|
    rows.each do |r|
      store_cpu = kind == "redis" ? f2(r["store_cpu_us_per_job"]) : "—"
      out << "| #{kind} | #{n0(r["jobs"])} | #{n0(r["push_rate"])} | #{n0(r["drain_rate"])} | #{f2(r["cpu_us_per_job"])} | #{store_cpu} | #{n0(r["store_bytes_per_job"])} | #{f1(r["rss_peak_mb"])} |"
    end
  end
  out << ""
  out << "¹ Redis: growth of `used_memory` over the push, divided by the jobs; SQLite: the database file plus"
  out << "its WAL after the push, divided by the jobs. The payload itself is about 150 bytes here."
  out << ""
end

queue_series = {}
table = []
%w[redis sqlite].each do |kind|
  %w[strict weighted].each do |mode|
    rows = pick(results, kind, mode).sort_by { |r| r["queues"] }
    next if rows.empty?
    queue_series["#{kind} #{mode}"] = rows.map { |r| [r["queues"], r["drain_rate"]] }
    rows.each { |r| table << [kind, mode, r] }
  end
end
unless queue_series.empty?
  Plot.chart(File.join(dir, "queues.svg"), title: "Drain rate by number of queues", xlabel: "queues (log scale)",
    ylabel: "jobs/s", log_x: true, series: queue_series)
  out << "### Fetch cost with many queues"
  out << ""
  out << "The jobs spread evenly over the queues; the worker is given every queue (`-q qN` strict, `-q qN,1` weighted)."
  out << ""
  out << "![drain rate by number of queues](#{link}/queues.svg)"
  out << ""
  out << "| store | order | queues | jobs | drain (jobs/s) | worker CPU/job (µs) | redis-server CPU/job (µs) |"
  out << "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  table.each do |kind, mode, r|
    store_cpu = kind == "redis" ? f2(r["store_cpu_us_per_job"]) : "—"
    out << "| #{kind} | #{mode} | #{n0(r["queues"])} | #{n0(r["jobs"])} | #{n0(r["drain_rate"])} | #{f2(r["cpu_us_per_job"])} | #{store_cpu} |"
  end
  out << ""
end

proc_series = {}
ptable = []
%w[redis sqlite].each do |kind|
  rows = pick(results, kind, "processes").sort_by { |r| r["processes"] }
  next if rows.empty?
  proc_series[kind] = rows.map { |r| [r["processes"], r["drain_rate"]] }
  rows.each { |r| ptable << [kind, r] }
end
unless proc_series.empty?
  Plot.chart(File.join(dir, "processes.svg"), title: "Drain rate by worker processes on one store",
    xlabel: "worker processes (concurrency 10 each)", ylabel: "jobs/s", series: proc_series)
  out << "### Worker processes on one store"
  out << ""
  out << "![drain rate by worker processes](#{link}/processes.svg)"
  out << ""
  out << "| store | processes | jobs | drain (jobs/s) | workers' CPU/job (µs) | redis-server CPU/job (µs) | CPU busy (of #{`nproc`.strip} cores) |"
  out << "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  ptable.each do |kind, r|
    store_cpu = kind == "redis" ? r["store_cpu_us_per_job"] : 0
    busy = (r["cpu_us_per_job"] + store_cpu) * r["jobs"] / 1e6 / r["drain_s"]
    out << "| #{kind} | #{r["processes"]} | #{n0(r["jobs"])} | #{n0(r["drain_rate"])} | #{f2(r["cpu_us_per_job"])} | #{kind == "redis" ? f2(store_cpu) : "—"} | #{f2(busy)} |"
  end
  out << ""
end

failed = results.reject { |r| r["finished"] }
unless failed.empty?
  out << "Runs that did not finish within their time limit: " +
    failed.map { |r| "#{r["kind"]} #{r["series"]} #{r["jobs"]} jobs" }.join("; ") + "."
  out << ""
end
puts out
