// SendWelcomeEmail: renders a welcome email from a per-locale template and
// "delivers" it by writing an RFC 5322 message to mail/welcome-<user_id>.eml.
// A real app would hand the text to an SMTP client here; the shape is the same.
#include <errand/errand.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "jobs/examples.h"

namespace {

struct Template {
  const char* subject;
  const char* body;
};

// {{name}} and {{user_id}} are replaced; unknown locales fall back to English.
const std::map<std::string, Template>& templates() {
  static const std::map<std::string, Template> t = {
      {"en",
       {"Welcome to Acme, {{name}}!",
        "Hi {{name}},\n\nThanks for signing up. Your account number is {{user_id}}.\n"
        "Reply to this email if you need anything.\n\n-- The Acme team\n"}},
      {"fr",
       {"Bienvenue chez Acme, {{name}} !",
        "Bonjour {{name}},\n\nMerci de votre inscription. Votre numéro de compte est "
        "{{user_id}}.\nRépondez à ce message si vous avez besoin d'aide.\n\n-- L'équipe Acme\n"}},
      {"de",
       {"Willkommen bei Acme, {{name}}!",
        "Hallo {{name}},\n\ndanke für deine Anmeldung. Deine Kundennummer ist {{user_id}}.\n"
        "Antworte einfach auf diese E-Mail, wenn du Hilfe brauchst.\n\n-- Dein Acme-Team\n"}},
  };
  return t;
}

std::string render(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string placeholder = "{{" + key + "}}";
    for (auto pos = text.find(placeholder); pos != std::string::npos;
         pos = text.find(placeholder, pos + value.size()))
      text.replace(pos, placeholder.size(), value);
  }
  return text;
}

}  // namespace

struct SendWelcomeEmail {
  static constexpr errand::JobOptions options{.queue = "mailers", .retry = 5};

  void perform(std::int64_t user_id, std::string locale) {
    auto it = templates().find(locale);
    const Template& t = it != templates().end() ? it->second : templates().at("en");
    // A real job would load the user; the demo invents a stable name.
    const std::map<std::string, std::string> vars = {{"name", "user" + std::to_string(user_id)},
                                                     {"user_id", std::to_string(user_id)}};

    auto path =
        errand::examples::output_dir("mail") / ("welcome-" + std::to_string(user_id) + ".eml");
    // Write to a temporary name and rename, so a reader never sees half a
    // message and a retry simply overwrites.
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << "From: Acme <hello@acme.example>\r\n"
          << "To: user" << user_id << "@example.com\r\n"
          << "Subject: " << render(t.subject, vars) << "\r\n"
          << "Content-Language: " << (it != templates().end() ? locale : "en") << "\r\n"
          << "Content-Type: text/plain; charset=utf-8\r\n"
          << "X-Errand-Jid: " << errand::current_job().jid << "\r\n\r\n"
          << render(t.body, vars);
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, path);
    errand::examples::record_completion("SendWelcomeEmail");
  }
};
ERRAND_JOB(SendWelcomeEmail);
