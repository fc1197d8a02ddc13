//! Key positions of commands whose keys a fixed first/last/step range
//! cannot describe (Redis's `movablekeys` flag): a `numkeys` argument
//! (LMPOP, ZUNIONSTORE, SINTERCARD, ...), keys after a keyword (XREAD's
//! STREAMS, SORT's STORE) or a destination plus counted sources.
//!
//! Routing (the slot of a MOVED), `COMMAND GETKEYS` and WATCH-style key
//! checks all go through [`CommandSpec::keys_of`], which asks this module
//! first. Malformed calls give what is readable; the command itself then
//! rejects the call with Redis's error.

use bytes::Bytes;

use super::args::parse_i64;

/// How to find the keys of a movable-key command.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `numkeys` at this index, then that many keys.
    NumKeysAt(usize),
    /// A destination key at 1, `numkeys` at 2, then that many keys.
    DestThenNumKeys,
    /// The keys are the first half of the arguments after `STREAMS`.
    AfterStreams,
    /// Key at 1, plus the argument after any of these keywords.
    KeyPlusStoreArgs(&'static [&'static str]),
}

fn shape(name: &str) -> Option<Shape> {
    Some(match name {
        "lmpop" | "zmpop" | "sintercard" | "zunion" | "zinter" | "zdiff" | "zintercard" | "eval" | "evalsha"
        | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => {
            if name.starts_with("eval") || name.starts_with("fcall") {
                Shape::NumKeysAt(2)
            } else {
                Shape::NumKeysAt(1)
            }
        }
        "blmpop" | "bzmpop" => Shape::NumKeysAt(2),
        "zunionstore" | "zinterstore" | "zdiffstore" => Shape::DestThenNumKeys,
        "xread" | "xreadgroup" => Shape::AfterStreams,
        "georadius" | "georadiusbymember" => Shape::KeyPlusStoreArgs(&["store", "storedist"]),
        "sort" => Shape::KeyPlusStoreArgs(&["store"]),
        _ => return None,
    })
}

/// Whether `name` (a lower-case command name) has movable keys.
pub fn is_movable(name: &str) -> bool {
    shape(name).is_some()
}

/// The key indexes of `args` for a movable-key command, `None` for others.
pub fn key_indexes(name: &str, args: &[Bytes]) -> Option<Vec<usize>> {
    let counted = |numkeys_at: usize| -> Vec<usize> {
        let Some(n) = args.get(numkeys_at).and_then(|a| parse_i64(a)).filter(|n| *n > 0) else {
            return Vec::new();
        };
        let first = numkeys_at + 1;
        let last = first.saturating_add(usize::try_from(n).unwrap_or(usize::MAX)).min(args.len());
        (first..last).collect()
    };
    Some(match shape(name)? {
        Shape::NumKeysAt(at) => counted(at),
        Shape::DestThenNumKeys => {
            let mut keys = if args.len() > 1 { vec![1] } else { Vec::new() };
            keys.extend(counted(2));
            keys
        }
        Shape::AfterStreams => match args.iter().position(|a| a.eq_ignore_ascii_case(b"streams")) {
            Some(at) => {
                let rest = args.len() - at - 1;
                (at + 1..at + 1 + rest / 2).collect()
            }
            None => Vec::new(),
        },
        Shape::KeyPlusStoreArgs(words) => {
            let mut keys = if args.len() > 1 { vec![1] } else { Vec::new() };
            let options = args.iter().enumerate().skip(2).take(args.len().saturating_sub(3));
            for (at, arg) in options {
                if words.iter().any(|w| arg.eq_ignore_ascii_case(w.as_bytes())) {
                    keys.push(at + 1);
                }
            }
            keys
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> Vec<Bytes> {
        text.split(' ').map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn keys_follow_numkeys_keywords_and_destinations() {
        assert_eq!(key_indexes("lmpop", &call("LMPOP 2 a b LEFT")), Some(vec![2, 3]));
        assert_eq!(key_indexes("blmpop", &call("BLMPOP 0 1 a LEFT")), Some(vec![3]));
        assert_eq!(key_indexes("zunionstore", &call("ZUNIONSTORE d 2 a b")), Some(vec![1, 3, 4]));
        assert_eq!(key_indexes("xread", &call("XREAD COUNT 2 STREAMS a b 0 0")), Some(vec![4, 5]));
        assert_eq!(key_indexes("sort", &call("SORT k LIMIT 0 1 STORE d")), Some(vec![1, 6]));
        assert_eq!(key_indexes("eval", &call("EVAL s 1 k a")), Some(vec![3]));
        // Malformed calls yield what is readable, never a panic.
        assert_eq!(key_indexes("lmpop", &call("LMPOP 5 a")), Some(vec![2]));
        assert_eq!(key_indexes("lmpop", &call("LMPOP x a")), Some(vec![]));
        assert_eq!(key_indexes("get", &call("GET a")), None);
    }
}
