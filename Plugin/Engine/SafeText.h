// Caller-supplied text (profile, option, project and recipient names, header
// values, JSON keys, URIs) in log lines and error bodies: control characters
// are shown as escapes and the text is cut to a sane length, so that no
// caller can forge or flood Orthanc's log or echo megabytes in an error.
// No Orthanc dependency: used by the engine, the key store, rules and the
// plugin layer alike.
#pragma once

#include <cstddef>
#include <string>

namespace Deid
{
  namespace SafeText
  {
    constexpr size_t DEFAULT_LENGTH = 64;     // caller text inside a message
    constexpr size_t MESSAGE_LENGTH = 2048;   // a whole message

    // Escapes \n \r \t \\ \" as such and every other byte outside printable
    // ASCII as \xNN (e.g. ESC as \x1b); cuts the text to maxLength bytes
    // first and marks the cut with "...".
    std::string Escape(const std::string& text, size_t maxLength = DEFAULT_LENGTH);

    // Escape() between double quotes: the form to embed caller text in a message.
    std::string Quote(const std::string& text, size_t maxLength = DEFAULT_LENGTH);

    // A whole message (log line, error body) in which caller text should
    // already be quoted: a last line of defence that escapes control
    // characters only (backslashes, quotes and UTF-8 stay) and cuts the
    // message to maxLength bytes.
    std::string Message(const std::string& message, size_t maxLength = MESSAGE_LENGTH);
  }
}
