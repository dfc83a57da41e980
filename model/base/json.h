// JSON through nlohmann/json, written in the one compact form stodepth has always stored and
// hashed: job keys are hashes of a config's JSON text and sweep hashes of a sweep file's, both
// kept in users' databases, so these bytes must never change. nlohmann parses and builds the
// trees and escapes strings; numbers are written here because nlohmann's differ from fmt's
// "{}" (1.0 as "1.0", 1e15 as "1e+15", and Grisu2 digits that are not always the shortest).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace stodepth {

using Json = nlohmann::json;                 // objects ordered by key
using OrderedJson = nlohmann::ordered_json;  // objects in insertion (document) order

// Which control characters a JSON string writes as two-character escapes; the others are
// written \u00XX (lower-case hex). Both forms are JSON; each is kept for the bytes it made.
enum class ShortEscapes {
  kNewlineTab,        // \n \t: configs and sweep hashes (the form job keys were hashed in)
  kNewlineReturnTab,  // \n \r \t: `query --format json`
};

// `text` as a JSON string literal, invalid UTF-8 replaced by U+FFFD (never an exception).
std::string json_string(std::string_view text, ShortEscapes short_escapes);

// A double as stored JSON writes it: the shortest text that reads back as `x`, as fmt "{}"
// prints it (1 not 1.0, 1e+16, 1e-05), -0 as 0, and NaN or infinities as null.
std::string json_number(double x);

// The JSON pointer of a dotted settings path: "train.lr.base" → /train/lr/base.
Json::json_pointer settings_pointer(std::string_view dotted_path);

// Compact JSON text (no spaces) with numbers as json_number and the integers as fmt prints
// them, strings as json_string(…, kNewlineTab), objects in the value's own key order.
std::string compact_json(const Json& value);
std::string compact_json(const OrderedJson& value);

}  // namespace stodepth
