# The PostgreSQL section of docs/BENCHMARKS.md (issue #13): errand's worker
# and Delayed Job's, each timed from outside on the same durable server, the
# in-process figures, and each target of the issue with its verdict.
# Usage: ruby bench/report_pg.rb OUTSIDE.jsonl INPROCESS.jsonl
require "json"

def load(path) = File.exist?(path) ? File.readlines(path).filter_map { |l| JSON.parse(l) rescue nil } : []
def median(vs) = (vs = vs.compact.sort).empty? ? nil : vs[(vs.size - 1) / 2]
def n0(v) = v.nil? ? "n/a" : v.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
def f2(v) = v.nil? ? "n/a" : format("%.2f", v)

outside = load(ARGV.fetch(0))
inproc = load(ARGV.fetch(1))
fig = ->(label, key) { median(outside.select { |r| r["label"] == label && r.fetch("finished", true) }.map { |r| r[key] }) }
inp = ->(figure) { median(inproc.select { |r| r["store"] == "postgres" && r["figure"] == figure }.map { |r| r["value"] }) }

out = []
out << "| figure | errand worker (postgres) | Delayed Job (postgres) |"
out << "| --- | ---: | ---: |"
[["drain, timed from outside (jobs/s)", "drain_rate", :n0],
 ["jobs", "jobs", :n0],
 ["push before the start (jobs/s)", "push_rate", :n0],
 ["worker CPU per job, user+sys (µs)", "cpu_us_per_job", :f2],
 ["log lines written", "log_lines", :n0]].each do |title, key, f|
  out << "| #{title} | #{send(f, fig.("errand-postgres", key))} | #{send(f, fig.("delayed-job-postgres", key))} |"
end
idle_cpu = fig.("errand-idle-postgres", "idle_cpu_pct")
out << "| idle worker CPU (% of one core) | #{f2(idle_cpu)} | — |"
out << ""
out << "| figure (in-process, `build/errand_bench`) | errand postgres |"
out << "| --- | ---: |"
[["enqueue, perform_async loop (jobs/s)", "enqueue_single", :n0],
 ["enqueue, push_bulk × 1,000 (jobs/s)", "enqueue_bulk", :n0],
 ["processing, drain (jobs/s)", "process", :n0],
 ["latency enqueue → perform p99 at 1,000 jobs/s (ms)", "latency_p99", :f2],
 ["result round trip: perform_async → wait() returns, p50 (ms)", "wait_p50", :f2],
 ["result round trip: perform_async → wait() returns, p99 (ms)", "wait_p99", :f2],
 ["CPU per job of the errand process, user+sys (µs)", "cpu_per_job", :f2]].each do |title, key, f|
  out << "| #{title} | #{send(f, inp.(key))} |"
end
out << ""

drain = fig.("errand-postgres", "drain_rate")
dj = fig.("delayed-job-postgres", "drain_rate")
bulk = inp.("enqueue_bulk")
p99 = inp.("latency_p99")
ratio = drain && dj && dj > 0 ? drain / dj : nil
verdict = ->(ok) { ok.nil? ? "not measured" : (ok ? "met" : "missed") }
out << "| target (issue #13, durable server) | this run | verdict |"
out << "| --- | --- | --- |"
out << "| `errand worker` drain ≥ 20,000 jobs/s | #{n0(drain)} jobs/s | #{verdict.(drain && drain >= 20_000)} |"
out << "| ≥ 100× Delayed Job on the same server | #{n0(drain)} vs #{n0(dj)} = #{ratio ? format("%.1f", ratio) : "n/a"}× | #{verdict.(ratio && ratio >= 100)} |"
out << "| bulk enqueue ≥ 200,000 jobs/s | #{n0(bulk)} jobs/s | #{verdict.(bulk && bulk >= 200_000)} |"
out << "| idle worker CPU < 1 % | #{f2(idle_cpu)} % | #{verdict.(idle_cpu && idle_cpu < 1)} |"
out << "| enqueue → perform p99 ≤ 5 ms at 1,000 jobs/s (LISTEN/NOTIFY, no short poll) | #{f2(p99)} ms | #{verdict.(p99 && p99 <= 5)} |"
puts out
