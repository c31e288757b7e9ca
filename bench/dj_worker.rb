# A Delayed Job worker process at its defaults (as `rake jobs:work` runs one:
# Delayed::Worker#start, INFO logging), its log to stdout, which the harness
# sends to a file. Runs until SIGTERM.
# Usage: ruby bench/dj_worker.rb DB
require_relative "dj_common"

Delayed::Worker.logger = Logger.new($stdout)
Delayed::Worker.new.start
