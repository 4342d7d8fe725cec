#pragma once
// Redis' glob patterns (SCAN ... MATCH, KEYS), over bytes: `*` any run of bytes, `?` any
// one byte, `[abc]` one of a set, `[^abc]` none of it, `[a-z]` a range (either order, as in
// Redis), `\x` the byte x itself (also inside a set). An unclosed `[` matches up to the end
// of the pattern, as Redis's stringmatchlen does. Written here rather than taken from
// fnmatch(3): keys are binary and may hold NUL bytes, which a C-string matcher cannot see,
// and fnmatch's set negation is `!` (glibc accepts `^` only as an extension).
// Iterative, with one backtrack point for the last `*`: O(pattern x key) at worst, no
// recursion, so a hostile pattern costs time linear in each key, never a stack overflow.

#include <string_view>

namespace vigil::net {

bool glob_match(std::string_view pattern, std::string_view key);

}  // namespace vigil::net
