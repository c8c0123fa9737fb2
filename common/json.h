// JSON string quoting for the hand-written JSON that CLIs and tools print.
#pragma once

#include <string>
#include <string_view>

namespace shrink {

// `text` as a JSON string literal, quotes included; control characters become \u00XX.
std::string JsonQuote(std::string_view text);

}  // namespace shrink
