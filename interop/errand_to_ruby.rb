# errand → Ruby: jobs pushed by errand (the `errand enqueue` CLI here, and
# errand::Client's push_bulk / perform_in from tests/interop_test.cc, whose
# jids arrive in ERRAND_PUSHED_JIDS) are valid Sidekiq jobs: Sidekiq's API
# reads them, and a real Ruby Sidekiq process (Sidekiq::Launcher) runs them,
# scheduled ones included.
require_relative "helper"
require "sidekiq/cli"
require "sidekiq/launcher"

I = Interop
RUBY_OUT = File.join(I::WORKDIR, "ruby_out.jsonl")

module Interop
  class EchoJob
    include Sidekiq::Worker
    sidekiq_options queue: "ruby_side"
    def perform(*args)
      line = JSON.generate("jid" => jid, "args" => args, "class" => self.class.name,
        "retry_count" => nil, "at" => Time.now.to_f)
      File.open(RUBY_OUT, "a") { |f| f.write(line + "\n") }
    end
  end
end

pushed = ENV.fetch("ERRAND_PUSHED_JIDS", "").split(",")
scheduled_jid = ENV["ERRAND_SCHEDULED_JID"]

# `errand enqueue`: immediate, with an explicit retry count, and scheduled.
cli_jids = []
cli_jids << I.errand_cli("enqueue", "Interop::EchoJob", '[1, "two", {"three": [3.5, true, null]}]', "-q", "ruby_side").strip
cli_jids << I.errand_cli("enqueue", "Interop::EchoJob", '["retry3"]', "-q", "ruby_side", "--retry", "3").strip
later_jid = I.errand_cli("enqueue", "Interop::EchoJob", '["later"]', "-q", "ruby_side", "--in", "2").strip
I.check("errand enqueue printed 24-hex jids (#{cli_jids + [later_jid]})") do
  (cli_jids + [later_jid]).all? { |j| j.match?(/\A\h{24}\z/) }
end

# Sidekiq's API reads errand's payloads.
q = Sidekiq::Queue.new("ruby_side")
I.check("Sidekiq::Queue.all lists errand's queue") { Sidekiq::Queue.all.map(&:name).include?("ruby_side") }
I.check_equal("Sidekiq::Queue#size counts errand's pushes", pushed.size + 2, q.size)
job = q.find_job(cli_jids[0])
I.check("Sidekiq::Queue#find_job finds errand's job") { job }
I.check_equal("JobRecord#klass", "Interop::EchoJob", job.klass)
I.check_equal("JobRecord#args", [1, "two", {"three" => [3.5, true, nil]}], job.args)
I.check_equal("JobRecord#queue", "ruby_side", job.queue)
I.check("created_at / enqueued_at are float seconds") { job["created_at"].is_a?(Float) && job["enqueued_at"].is_a?(Float) }
I.check("JobRecord#enqueued_at is a recent Time") { (job.enqueued_at.to_f - Time.now.to_f).abs < 600 }
I.check_equal("retry written explicitly (true)", true, job["retry"])
I.check_equal("--retry 3 written as an integer", 3, q.find_job(cli_jids[1])["retry"])
I.check("Sidekiq::Queue#latency is computed from errand's enqueued_at") { q.latency >= 0 && q.latency < 600 }
sched = Sidekiq::ScheduledSet.new
I.check("Sidekiq::ScheduledSet lists `errand enqueue --in`") { sched.find_job(later_jid) }
I.check("no enqueued_at on a scheduled entry") { !sched.find_job(later_jid).item.key?("enqueued_at") }
if scheduled_jid
  I.check("Sidekiq::ScheduledSet lists errand::Client#perform_in's job") { sched.find_job(scheduled_jid) }
end

# A real Sidekiq server process runs them all.
Sidekiq.configure_server do |config|
  config.redis = {url: I::REDIS_URL}
  config.options[:concurrency] = 3
  config.options[:queues] = ["ruby_side"]
  config.options[:poll_interval_average] = 1 # no 10 s initial wait
  config.options[:timeout] = 2
  config.logger.level = Logger::WARN
end
launcher = Sidekiq::Launcher.new(Sidekiq.options)
launcher.run

expected = pushed + cli_jids + [later_jid] + [scheduled_jid].compact
ruby_ran = -> { I.records(RUBY_OUT).map { |r| r["jid"] } }
I.wait_for("Ruby Sidekiq to run all #{expected.size} jobs errand pushed",
  last: -> { expected - ruby_ran.call }) { (expected - ruby_ran.call).empty? }
recs = I.records(RUBY_OUT).to_h { |r| [r["jid"], r] }
I.check_equal("Ruby got the arguments of `errand enqueue`", [1, "two", {"three" => [3.5, true, nil]}], recs[cli_jids[0]]["args"])
I.check_equal("Ruby got the arguments of the scheduled job", ["later"], recs[later_jid]["args"])
I.check("each errand::Client bulk job ran with its own number") do
  pushed.each_with_index.all? { |jid, i| recs[jid]["args"] == [{"bulk" => i}] }
end
I.check_equal("each job ran exactly once", expected.size, I.records(RUBY_OUT).size)
I.wait_for("Sidekiq::Stats#processed to count them", last: -> { Sidekiq::Stats.new.processed }) do
  Sidekiq::Stats.new.processed == expected.size
end
I.check("the Ruby process is in Sidekiq::ProcessSet") { Sidekiq::ProcessSet.new.any? { |p| p["pid"] == Process.pid } }

launcher.quiet
launcher.stop
I.check("Ruby Sidekiq stopped") { Sidekiq::ProcessSet.new.none? { |p| p["pid"] == Process.pid } }
puts "PASS"
exit!(0) # Sidekiq's threads are stopped; skip at_exit hooks that would wait on them
