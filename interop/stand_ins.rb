# Ruby stand-ins for the C++ job classes of interop/jobs/interop_jobs.cc: the
# scripts push them with Sidekiq's client (and Sidekiq's API and Web UI show
# them); only errand workers run them, so they have no perform.
require_relative "helper"

module Interop
  class EchoJob
    include Sidekiq::Worker
    sidekiq_options queue: "interop"
  end

  class TypedJob
    include Sidekiq::Worker
    sidekiq_options queue: "interop"
  end

  class SlowJob
    include Sidekiq::Worker
    sidekiq_options queue: "interop"
  end

  class FailJob
    include Sidekiq::Worker
    sidekiq_options queue: "interop", retry: 1
  end

  class FailLaterJob
    include Sidekiq::Worker
    sidekiq_options queue: "interop", retry: 3
  end
end
