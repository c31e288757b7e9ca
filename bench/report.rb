# The product table of docs/BENCHMARKS.md: worker processes timed from
# outside (build/errand_outside, one JSON object per run), the median of the
# rounds per figure, and each target of issue #15 with its verdict (the
# memory-store rate and the latencies come from the in-process harness).
# Usage: ruby bench/report.rb OUTSIDE.jsonl INPROCESS.jsonl
require "json"

def load(path) = File.exist?(path) ? File.readlines(path).filter_map { |l| JSON.parse(l) rescue nil } : []

outside = load(ARGV.fetch(0))
inproc = load(ARGV.fetch(1))

def median(vs)
  vs = vs.compact.sort
  vs.empty? ? nil : vs[(vs.size - 1) / 2]
end

def fig(runs, label, key) = median(runs.select { |r| r["label"] == label && r["finished"] }.map { |r| r[key] })
def inp(runs, store, figure) = median(runs.select { |r| r["store"] == store && r["figure"] == figure }.map { |r| r["value"] })
def n0(v) = v.nil? ? "n/a" : v.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
def f1(v) = v.nil? ? "n/a" : format("%.1f", v)
def f2(v) = v.nil? ? "n/a" : format("%.2f", v)
def ratio(a, b) = (a && b && b > 0) ? a / b : nil

cols = [["errand-redis", "errand worker (redis)"], ["sidekiq", "Sidekiq 6.4 (redis)"],
  ["errand-sqlite", "errand worker (sqlite)"], ["delayed-job", "Delayed Job (sqlite)"]]
rows = [
  ["drain, timed from outside (jobs/s)", "drain_rate", :n0],
  ["drain after start-up (jobs/s)", "rate_after_startup", :n0],
  ["jobs", "jobs", :n0],
  ["push before the start (jobs/s)", "push_rate", :n0],
  ["worker CPU per job, user+sys (µs)", "cpu_us_per_job", :f2],
  ["redis-server CPU per job (µs)", "store_cpu_us_per_job", :f2],
  ["start-up: process start → first job taken (Redis) / acknowledged (SQLite) (s)", "startup_s", :f2],
  ["worker peak RSS (MB)", "rss_peak_mb", :f1],
  ["log lines written", "log_lines", :n0]
]
out = []
out << "| figure | " + cols.map(&:last).join(" | ") + " |"
out << "| --- |" + " ---: |" * cols.size
rows.each do |title, key, f|
  cells = cols.map do |label, _|
    next "—" if key == "store_cpu_us_per_job" && label !~ /redis|sidekiq/
    send(f, fig(outside, label, key))
  end
  out << "| #{title} | #{cells.join(" | ")} |"
end
idle = fig(outside, "errand-idle", "idle_rss_mb")
out << "| idle worker RSS (MB) | #{f1(idle)} | — | #{f1(fig(outside, "errand-idle-sqlite", "idle_rss_mb"))} | — |"
out << ""

# Isolation: what a job costs in a child process (issue #11), beside threads.
iso = [["errand-redis", "thread (default)"], ["errand-redis-process", "process (pre-forked children)"],
  ["errand-redis-fork", "fork (a child per job)"]]
thread_cpu = fig(outside, "errand-redis", "cpu_us_per_job")
out << "| isolation (errand worker, redis) | jobs | drain (jobs/s) | worker CPU per job (µs) | overhead per job vs thread (µs) |"
out << "| --- | ---: | ---: | ---: | ---: |"
iso.each do |label, title|
  cpu = fig(outside, label, "cpu_us_per_job")
  over = (cpu && thread_cpu) ? cpu - thread_cpu : nil
  out << "| #{title} | #{n0(fig(outside, label, "jobs"))} | #{n0(fig(outside, label, "drain_rate"))} | #{f2(cpu)} | #{label == "errand-redis" ? "—" : f2(over)} |"
end
out << ""
out << "Worker CPU is the `errand worker` process and its children (user + sys)."
out << ""

redis = fig(outside, "errand-redis", "drain_rate")
sk = fig(outside, "sidekiq", "drain_rate")
sqlite = fig(outside, "errand-sqlite", "drain_rate")
dj = fig(outside, "delayed-job", "drain_rate")
mem = inp(inproc, "memory", "process")
verdict = ->(ok) { ok.nil? ? "not measured" : (ok ? "met" : "missed") }
targets = [
  ["Redis `errand worker` ≥ 150,000 jobs/s", "#{n0(redis)} jobs/s", verdict.(redis && redis >= 150_000)],
  ["Redis ≥ 20× Sidekiq at its defaults", "#{n0(redis)} vs #{n0(sk)} = #{f1(ratio(redis, sk))}×",
    verdict.(ratio(redis, sk) && ratio(redis, sk) >= 20)],
  ["SQLite `errand worker` ≥ 30,000 jobs/s durable", "#{n0(sqlite)} jobs/s", verdict.(sqlite && sqlite >= 30_000)],
  ["SQLite ≥ 150× Delayed Job", "#{n0(sqlite)} vs #{n0(dj)} = #{f1(ratio(sqlite, dj))}×",
    verdict.(ratio(sqlite, dj) && ratio(sqlite, dj) >= 150)],
  ["memory (in-process) ≥ 3,000,000 jobs/s", "#{n0(mem)} jobs/s", verdict.(mem && mem >= 3_000_000)]
]
%w[redis sqlite].each do |s|
  p99 = inp(inproc, s, "latency_p99")
  targets << ["#{s} enqueue → perform p99 ≤ 1 ms at 1,000 jobs/s (in-process)", "#{f2(p99)} ms", verdict.(p99 && p99 <= 1.0)]
end
proc_rate = fig(outside, "errand-redis-process", "drain_rate")
proc_cpu = fig(outside, "errand-redis-process", "cpu_us_per_job")
proc_over = (proc_cpu && fig(outside, "errand-redis", "cpu_us_per_job")) ? proc_cpu - fig(outside, "errand-redis", "cpu_us_per_job") : nil
targets << ["process isolation overhead ≤ 30 µs per job (issue #11)", "#{f2(proc_over)} µs", verdict.(proc_over && proc_over <= 30)]
targets << ["process isolation ≥ 20,000 jobs/s on Redis (issue #11)", "#{n0(proc_rate)} jobs/s", verdict.(proc_rate && proc_rate >= 20_000)]
targets << ["idle `errand worker` RSS ≤ 10 MB", "#{f1(idle)} MB (redis)", verdict.(idle && idle <= 10)]
out << "| target (issue #15) | this run | verdict |"
out << "| --- | --- | --- |"
targets.each { |t| out << "| #{t.join(" | ")} |" }
puts out
