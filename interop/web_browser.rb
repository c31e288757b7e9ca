# Sidekiq's own Web UI (Sidekiq::Web) as a Rack app, driven through
# rack-test: the browser of interop/web_ui.rb and interop/batch_views.rb.
require "rack/test"
require "rack/session/cookie"
require "securerandom"
require "sidekiq/web"

# Sidekiq 6.4.1's CSRF protection needs a Rack session.
APP = Rack::Builder.new do
  use Rack::Session::Cookie, secret: SecureRandom.hex(32), same_site: true, max_age: 86400
  run Sidekiq::Web
end.to_app

class Browser
  include Rack::Test::Methods
  def app = APP
end
