//! Redis's glob-style pattern matching (`stringmatchlen` in `util.c`), used by
//! KEYS and SCAN MATCH and, later, by PSUBSCRIBE and the *SCAN family.
//!
//! Clients depend on the quirks as much as on the rules, so this is a
//! faithful transcription rather than a textbook glob:
//! - `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges such as `[z-a]`
//!   work too) and `\x` escapes, also inside brackets;
//! - an unterminated `[` class ends at the end of the pattern, and the
//!   pattern then reads as if its last byte were the closing `]`;
//! - bytes are compared as C's signed `char`, so in a range a byte >= 0x80
//!   sorts before `\0`;
//! - patterns are read as if NUL-terminated: looking one byte past the end
//!   sees 0;
//! - a non-empty pattern never matches an empty string, not even `*`;
//! - recursion (one level per `*`) stops at a nesting of 1000, where Redis
//!   answers "no match", and a failed tail match stops the search early, so
//!   abusive patterns cannot make a request run for long.

/// Whether `string` matches the glob `pattern`, byte for byte like Redis's
/// `stringmatchlen(pattern, string, nocase)`.
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    let mut matcher = Matcher { pattern, string, nocase, skip_longer_matches: &mut skip_longer_matches };
    matcher.run(0, pattern.len() as isize, 0, string.len() as isize, 0)
}

/// Redis gives up (no match) beyond this many nested `*`.
const NESTING_MAX: u32 = 1000;

struct Matcher<'a, 'b> {
    pattern: &'a [u8],
    string: &'a [u8],
    nocase: bool,
    skip_longer_matches: &'b mut bool,
}

impl Matcher<'_, '_> {
    /// The pattern byte at `at` as a C `char`, 0 past the end (the NUL of an sds).
    fn pat(&self, at: isize) -> i32 {
        usize::try_from(at).ok().and_then(|i| self.pattern.get(i)).map_or(0, |&b| b as i8 as i32)
    }

    fn text(&self, at: isize) -> i32 {
        usize::try_from(at).ok().and_then(|i| self.string.get(i)).map_or(0, |&b| b as i8 as i32)
    }

    fn fold(&self, c: i32) -> i32 {
        if self.nocase && (b'A' as i32..=b'Z' as i32).contains(&c) {
            c + 32
        } else {
            c
        }
    }

    /// The pattern from `p` (with `plen` bytes left) against the string from
    /// `s` (`slen` bytes left).
    fn run(&mut self, mut p: isize, mut plen: isize, mut s: isize, mut slen: isize, nesting: u32) -> bool {
        if nesting > NESTING_MAX {
            return false;
        }
        while plen > 0 && slen > 0 {
            match self.pat(p) as u8 {
                b'*' => {
                    while plen > 0 && self.pat(p + 1) == b'*' as i32 {
                        p += 1;
                        plen -= 1;
                    }
                    if plen == 1 {
                        return true;
                    }
                    while slen > 0 {
                        if self.run(p + 1, plen - 1, s, slen, nesting + 1) {
                            return true;
                        }
                        if *self.skip_longer_matches {
                            return false;
                        }
                        s += 1;
                        slen -= 1;
                    }
                    // The rest of the pattern matches nowhere in the rest of
                    // the string, so no earlier `*` can do better by
                    // swallowing more.
                    *self.skip_longer_matches = true;
                    return false;
                }
                b'?' => {
                    s += 1;
                    slen -= 1;
                }
                b'[' => {
                    p += 1;
                    plen -= 1;
                    let negate = self.pat(p) == b'^' as i32;
                    if negate {
                        p += 1;
                        plen -= 1;
                    }
                    let c = self.text(s);
                    let mut matched = false;
                    loop {
                        if self.pat(p) == b'\\' as i32 && plen >= 2 {
                            p += 1;
                            plen -= 1;
                            if self.pat(p) == c {
                                matched = true;
                            }
                        } else if self.pat(p) == b']' as i32 {
                            break;
                        } else if plen == 0 {
                            p -= 1;
                            plen += 1;
                            break;
                        } else if plen >= 3 && self.pat(p + 1) == b'-' as i32 {
                            let (mut start, mut end) = (self.pat(p), self.pat(p + 2));
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            let (start, end, folded) = (self.fold(start), self.fold(end), self.fold(c));
                            p += 2;
                            plen -= 2;
                            if folded >= start && folded <= end {
                                matched = true;
                            }
                        } else if self.fold(self.pat(p)) == self.fold(c) {
                            matched = true;
                        }
                        p += 1;
                        plen -= 1;
                    }
                    if negate {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    s += 1;
                    slen -= 1;
                }
                other => {
                    if other == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                    }
                    if self.fold(self.pat(p)) != self.fold(self.text(s)) {
                        return false;
                    }
                    s += 1;
                    slen -= 1;
                }
            }
            p += 1;
            plen -= 1;
            if slen == 0 {
                while self.pat(p) == b'*' as i32 {
                    p += 1;
                    plen -= 1;
                }
                break;
            }
        }
        plen == 0 && slen == 0
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(pattern: &str, string: &str) -> bool {
        matches(pattern.as_bytes(), string.as_bytes(), false)
    }

    #[test]
    fn stars_and_question_marks_match_runs_and_single_bytes() {
        // Redis's quirk: a non-empty pattern never matches the empty string,
        // not even "*" (KEYS and SCAN special-case a lone "*" before matching).
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h*o", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("**a**", "xxaxx"));
        assert!(!m("a*b", "acbd"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
    }

    #[test]
    fn bracket_classes_support_sets_negation_ranges_and_escapes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed ranges are swapped");
        assert!(m("[\\]]", "]"));
        assert!(m("[a-]", "a"));
    }

    #[test]
    fn unterminated_brackets_and_trailing_backslashes_behave_like_redis() {
        // "[a" reads as "[a]" (the class runs to the end of the pattern).
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        // "[^" matches any single byte.
        assert!(m("[^", "x"));
        // A lone trailing backslash matches itself.
        assert!(m("a\\", "a\\"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
    }

    #[test]
    fn high_bytes_compare_as_signed_chars_in_ranges() {
        // 0x80 is -128 as a C char: below 'a', so not inside [a-z] but inside [\x80-a].
        assert!(!matches(b"[a-z]", b"\x80", false));
        assert!(matches(b"[\x80-a]", b"\x00", false));
    }

    #[test]
    fn nocase_folds_ascii_letters() {
        assert!(matches(b"HeLLo", b"hello", true));
        assert!(matches(b"[A-C]", b"b", true));
        assert!(!matches(b"HeLLo", b"hello", false));
    }

    #[test]
    fn abusive_patterns_terminate_quickly() {
        let pattern = "a*".repeat(2000) + "b";
        let string = "a".repeat(5000);
        assert!(!m(&pattern, &string));
        // Matches without the limit; Redis gives up beyond 1000 nested stars.
        assert!(m(&"a*".repeat(900), &"a".repeat(900)));
        assert!(!m(&"a*".repeat(1100), &"a".repeat(1100)), "nesting beyond 1000 gives up");
    }
}
