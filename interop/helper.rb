# Shared pieces of the interop scripts: Sidekiq's client configured from the
# environment, checks that stop the script with a clear message, bounded
# waits, and errand worker processes that are always killed on exit.
#
# Environment (set by tests/interop_test.cc; set them by hand to run a script
# alone):
#   REDIS_URL            redis://127.0.0.1:PORT/0 of a scratch redis-server
#   ERRAND_CLI           path of the `errand` binary
#   ERRAND_INTEROP_JOBS  path of liberrand_interop_jobs.so
#   INTEROP_WORKDIR      scratch directory (logs, job output); default: a temp dir
require "json"
require "logger"
require "socket"
require "tmpdir"
require "sidekiq"
require "sidekiq/api"

module Interop
  REDIS_URL = ENV.fetch("REDIS_URL") { abort "FAIL: REDIS_URL is not set" }
  WORKDIR = ENV["INTEROP_WORKDIR"] || Dir.mktmpdir("errand-interop")
  DEFAULT_TIMEOUT = 60

  # redis-rb 4.8 warns about Sidekiq 6.4's own calls (sadd's return value).
  Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
  Sidekiq.configure_client { |c| c.redis = {url: REDIS_URL} }
  Sidekiq.logger.level = Logger::WARN

  @workers = []
  @checks = 0

  class << self
    attr_reader :workers
  end

  # Stops the script: prints the message and the logs of the errand workers.
  def self.fail!(message)
    $stderr.puts "FAIL: #{message}"
    @workers.each do |w|
      next unless File.exist?(w.log)
      $stderr.puts "--- errand worker #{w.pid} log (last 40 lines) ---"
      $stderr.puts File.readlines(w.log).last(40).join
    end
    exit 1
  end

  # A check that must hold; prints it when it does.
  def self.check(description, ok = nil)
    ok = yield if block_given?
    fail!("#{description}") unless ok
    @checks += 1
    puts "ok: #{description}"
  end

  # Compares actual with expected, naming both on a mismatch.
  def self.check_equal(description, expected, actual)
    fail!("#{description}: expected #{expected.inspect}, got #{actual.inspect}") unless expected == actual
    @checks += 1
    puts "ok: #{description} (#{actual.inspect})"
  end

  # Polls the block every 0.1 s until it returns a truthy value, which is
  # returned; fails after `timeout` seconds, with `last` (a block) describing
  # what was seen.
  def self.wait_for(description, timeout: DEFAULT_TIMEOUT, last: nil)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      value = yield
      return value if value
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        seen = last ? " (last seen: #{last.call.inspect})" : ""
        fail!("timed out after #{timeout} s waiting for #{description}#{seen}")
      end
      sleep 0.1
    end
  end

  def self.done
    puts "PASS: #{@checks} checks"
    exit 0
  end

  # ---- job output -----------------------------------------------------------

  # Parsed lines the interop jobs appended to `path` (one JSON object each).
  def self.records(path)
    return [] unless File.exist?(path)
    File.readlines(path).map { |l| JSON.parse(l) }
  end

  # ---- errand workers -------------------------------------------------------

  Worker = Struct.new(:pid, :log, :out, :status)

  # Starts `errand worker` with the interop jobs on REDIS_URL. Quick
  # heartbeats and polls keep the scripts short.
  def self.start_worker(queues:, concurrency: 2, out: File.join(WORKDIR, "out.jsonl"), extra: [])
    cli = ENV.fetch("ERRAND_CLI") { fail!("ERRAND_CLI is not set") }
    jobs = ENV.fetch("ERRAND_INTEROP_JOBS") { fail!("ERRAND_INTEROP_JOBS is not set") }
    log = File.join(WORKDIR, "worker-#{@workers.size}.log")
    argv = [cli, "worker", "-r", jobs, "--store", REDIS_URL, "-c", concurrency.to_s,
      "--heartbeat-interval", "0.5", "--process-ttl", "10", "--poll-interval", "0.2",
      "--rescue-interval", "1", "-t", "3"]
    queues.each { |q| argv += ["-q", q] }
    argv += extra
    pid = Process.spawn({"ERRAND_INTEROP_OUT" => out}, *argv, in: File::NULL, out: log, err: log)
    w = Worker.new(pid, log, out, nil)
    @workers << w
    w
  end

  # The worker's exit status, waiting up to `timeout` s; nil if still running.
  def self.wait_exit(w, timeout: DEFAULT_TIMEOUT)
    return w.status if w.status
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      _, st = Process.waitpid2(w.pid, Process::WNOHANG)
      if st
        w.status = st
        return st
      end
      return nil if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.05
    end
  end

  def self.stop_worker(w)
    return w.status if w.status
    Process.kill("TERM", w.pid)
    wait_exit(w) || fail!("errand worker #{w.pid} did not exit within #{DEFAULT_TIMEOUT} s of SIGTERM")
  end

  # The Sidekiq::Process entry of an errand worker, once its heartbeat is there.
  def self.process_of(w, timeout: DEFAULT_TIMEOUT)
    wait_for("errand worker #{w.pid} in Sidekiq::ProcessSet", timeout: timeout,
      last: -> { Sidekiq::ProcessSet.new.map { |p| p["identity"] } }) do
      Sidekiq::ProcessSet.new.find { |p| p["pid"] == w.pid }
    end
  end

  # Runs `errand ARGS --store REDIS_URL`; returns stdout, failing on a non-zero exit.
  def self.errand_cli(*args)
    cli = ENV.fetch("ERRAND_CLI") { fail!("ERRAND_CLI is not set") }
    out = IO.popen([cli, *args, "--store", REDIS_URL], err: [:child, :out], &:read)
    fail!("errand #{args.join(" ")} exited #{$?.exitstatus}: #{out}") unless $?.success?
    out
  end

  at_exit do
    @workers.each do |w|
      next if w.status
      begin
        Process.kill("KILL", w.pid)
        Process.wait(w.pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
    end
  end
end
