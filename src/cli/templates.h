// The files `errand new job` and `errand new project` write. Each template
// is text with {{placeholders}}; render() fills them.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace errand::cli::templates {

/// Replaces every {{key}} of `text` by vars[key]; unknown keys stay.
std::string render(std::string_view text, const std::map<std::string, std::string>& vars);

// A job: {{class}}, {{snake}} (file stem without _job), {{guard}}.
extern const std::string_view kJobHeader;
extern const std::string_view kJobSource;
extern const std::string_view kJobTest;

// A project: {{project}} (a C++/CMake-safe name), {{version}} (errand's).
extern const std::string_view kProjectCMake;
extern const std::string_view kProjectMain;
extern const std::string_view kProjectReadme;
extern const std::string_view kProjectGitignore;

}  // namespace errand::cli::templates
