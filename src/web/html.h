// Small helpers for server-rendered HTML. Every string that did not come
// from this file goes through esc(); nothing else is trusted.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "web/app.h"

namespace errand::web {

/// Escapes & < > " ' for text and attribute values.
std::string esc(std::string_view s);
/// Percent-encodes a URL component (path segment or query value).
std::string url_encode(std::string_view s);
/// `s` cut to `n` bytes (at a UTF-8 boundary) with "…" appended when cut.
std::string truncate(std::string_view s, std::size_t n);

/// Builds a fragment of HTML. Text and attribute values are escaped; only
/// raw() takes markup, for fragments that another Html or helper built.
///
///   Html h;
///   h.open("td", {{"class", "num"}}).text(count).close("td");
class Html {
 public:
  using Attrs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// <tag a="v" ...>; an attribute with an empty name is skipped.
  Html& open(std::string_view tag, Attrs attrs = {});
  Html& close(std::string_view tag);
  /// <tag ...>text</tag>
  Html& el(std::string_view tag, Attrs attrs, std::string_view text);
  Html& text(std::string_view s);
  Html& raw(std::string_view markup);
  Html& raw(const Html& other) { return raw(other.out_); }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// What a page handler works with.
struct PageCtx {
  App& app;
  const httplib::Request& req;
  httplib::Response& res;
  Session session;
};

/// The full document: head, navigation (with live counters), flash notice, body, footer.
std::string layout(PageCtx& ctx, std::string_view title, std::string_view active,
                   const std::string& body);
/// <input type=hidden name=_csrf ...> plus the `back` field (where to return).
std::string form_fields(const PageCtx& ctx, std::string_view back);
/// "« 1 2 3 »" links for a list of `total` rows, keeping `q`.
std::string pager(std::string_view base, std::size_t total, std::size_t offset, std::size_t limit,
                  std::string_view q);
/// A <time> element: relative text, absolute UTC as its title.
std::string time_html(double epoch, double now);

}  // namespace errand::web
