// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), for checking sweep files and escaping report text.
#pragma once

#include <string_view>

namespace stodepth {

// Length of the valid UTF-8 sequence at the start of non-empty `s`, or, when it is invalid,
// minus the length of its maximal valid prefix (at least 1), which a decoder replaces by one
// U+FFFD as the Unicode standard recommends.
int utf8_sequence(std::string_view s);

}  // namespace stodepth
