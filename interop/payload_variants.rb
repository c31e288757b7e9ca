# Payload variants written by newer Sidekiqs and by other clients: integer
# millisecond timestamps (Sidekiq 8), float seconds (6/7), and fields errand
# does not know. They run, and the unknown fields survive the trip through
# the retry set and the dead set unchanged. Also Sidekiq's retry edge cases:
# retry: 0 goes straight to the dead set, retry: false to neither set.
require_relative "helper"
require "securerandom"

I = Interop
worker = I.start_worker(queues: ["interop"], concurrency: 2)
out = worker.out

def raw_push(queue, hash)
  Sidekiq.redis do |c|
    c.sadd("queues", queue)
    c.lpush("queue:#{queue}", JSON.generate(hash))
  end
  hash["jid"]
end

now_s = Time.now.to_f
now_ms = (now_s * 1000).to_i
extras = {"tags" => ["alpha", "beta"], "bid" => "b-123", "custom" => {"nested" => [1, "x", nil]},
          "x_future_field" => 7, "display_class" => "Interop::Shown", "locale" => "fr"}

v7 = {"class" => "Interop::EchoJob", "args" => ["sidekiq7"], "jid" => SecureRandom.hex(12),
      "queue" => "interop", "retry" => true, "created_at" => now_s, "enqueued_at" => now_s}.merge(extras)
v8 = {"class" => "Interop::EchoJob", "args" => ["sidekiq8"], "jid" => SecureRandom.hex(12),
      "queue" => "interop", "retry" => true, "created_at" => now_ms, "enqueued_at" => now_ms}.merge(extras)
minimal = {"class" => "Interop::EchoJob", "args" => ["minimal"], "jid" => SecureRandom.hex(12)}
[v7, v8, minimal].each { |h| raw_push("interop", h) }
[["Sidekiq 7 payload (float seconds, extra fields)", v7],
  ["Sidekiq 8 payload (integer milliseconds, extra fields)", v8],
  ["minimal payload (class, args, jid only)", minimal]].each do |name, h|
  r = I.wait_for("#{name} to run") { I.records(out).find { |x| x["jid"] == h["jid"] } }
  I.check_equal("#{name} ran with its arguments", h["args"], r["args"])
end

# Failing variants: the retry entry and then the dead entry keep every field
# errand does not own, with the same JSON values (integer ms stay integers).
f8 = {"class" => "Interop::FailJob", "args" => ["fail8"], "jid" => SecureRandom.hex(12),
      "queue" => "interop", "retry" => 1, "created_at" => now_ms, "enqueued_at" => now_ms}.merge(extras)
f7 = {"class" => "Interop::FailJob", "args" => ["fail7"], "jid" => SecureRandom.hex(12),
      "queue" => "interop", "retry" => 1, "created_at" => now_s, "enqueued_at" => now_s}.merge(extras)
owned = %w[retry_count failed_at retried_at error_message error_class error_backtrace queue enqueued_at]
[["Sidekiq 8", f8], ["Sidekiq 7", f7]].each do |name, h|
  raw_push("interop", h)
  kept = h.reject { |k, _| owned.include?(k) }
  retry_entry = I.wait_for("#{name} failing job in the retry set") { Sidekiq::RetrySet.new.find_job(h["jid"]) }
  I.check_equal("#{name}: retry entry keeps unknown fields and created_at as sent", kept,
    retry_entry.item.slice(*kept.keys))
  I.check("#{name}: retry entry has the error") { retry_entry["error_class"] == "interop::InteropError" }
  dead_entry = I.wait_for("#{name} failing job in the dead set") { Sidekiq::DeadSet.new.find_job(h["jid"]) }
  I.check_equal("#{name}: dead entry keeps unknown fields and created_at as sent", kept,
    dead_entry.item.slice(*kept.keys))
  I.check_equal("#{name}: dead entry retry_count", 1, dead_entry["retry_count"])
  I.check("#{name}: Sidekiq's JobRecord reads created_at") { dead_entry.created_at.is_a?(Time) }
end

# retry: 0 — straight to the dead set on the first failure (Ruby's 0 is truthy).
z = {"class" => "Interop::FailJob", "args" => ["zero"], "jid" => SecureRandom.hex(12),
     "queue" => "interop", "retry" => 0, "created_at" => now_s}
raw_push("interop", z)
zd = I.wait_for("retry: 0 job in the dead set") { Sidekiq::DeadSet.new.find_job(z["jid"]) }
I.check_equal("retry: 0 dead entry retry_count", 0, zd["retry_count"])
I.check("retry: 0 never in the retry set") { Sidekiq::RetrySet.new.find_job(z["jid"]).nil? }

# retry: false — dropped after the failure: neither retry nor dead. Its
# failure is counted after the drop, so once Stats#failed reaches 6 (2 + 2 + 1
# before it) the drop has happened.
I.wait_for("5 failures counted so far", last: -> { Sidekiq::Stats.new.failed }) { Sidekiq::Stats.new.failed == 5 }
n = {"class" => "Interop::FailJob", "args" => ["never"], "jid" => SecureRandom.hex(12),
     "queue" => "interop", "retry" => false, "created_at" => now_s}
raw_push("interop", n)
I.wait_for("retry: false job to run once") { I.records(out).any? { |x| x["jid"] == n["jid"] } }
I.wait_for("retry: false failure counted in Stats#failed", last: -> { Sidekiq::Stats.new.failed }) do
  Sidekiq::Stats.new.failed == 6
end
I.check("retry: false job is in neither the retry nor the dead set") do
  Sidekiq::RetrySet.new.find_job(n["jid"]).nil? && Sidekiq::DeadSet.new.find_job(n["jid"]).nil?
end

I.stop_worker(worker)
I.check_equal("errand worker exits 0", 0, worker.status.exitstatus)
I.done
