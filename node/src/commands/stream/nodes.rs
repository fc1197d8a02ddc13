//! A model of how Redis lays a stream out in memory, kept because it shows
//! in replies.
//!
//! Redis stores a stream as a radix tree ("rax") of listpacks ("nodes") of
//! up to 100 entries or 4096 bytes. Trimming with `~` removes only whole
//! nodes, so XTRIM/XADD replies depend on where node boundaries fall, and
//! `XINFO STREAM` reports the number of nodes (`radix-tree-keys`) and of
//! internal rax nodes (`radix-tree-nodes`).
//!
//! Redraft stores each entry under its own element name, and keeps one
//! small record per Redis node (its first entry ID as the key, live and
//! deleted counts, its listpack's byte size, its last entry ID and the
//! "master" field names entries are compared with), which is enough to
//! decide boundaries exactly as `streamAppendItem` does:
//! - [`entry_bytes`] and friends compute listpack sizes byte for byte
//!   (integer-looking strings are stored as integers, as in `lpEncodeGetType`);
//! - [`rax_insert_delta`] gives the change in rax nodes when a 16-byte key is
//!   added, from the keys next to it, for the canonical compressed trie
//!   rax maintains (removal is the inverse).

use super::super::args::parse_i64;
use super::id::StreamId;

/// `stream-node-max-bytes` (Redis's default).
pub const NODE_MAX_BYTES: u64 = 4096;
/// `stream-node-max-entries` (Redis's default).
pub const NODE_MAX_ENTRIES: u64 = 100;
/// `STREAM_LISTPACK_MAX_SIZE`: larger entries are refused.
pub const LISTPACK_MAX_SIZE: u64 = 1 << 30;
/// Listpack header (total bytes and element count) plus the end marker.
const LISTPACK_EMPTY_BYTES: u64 = 7;

/// `STREAM_ITEM_FLAG_SAMEFIELDS`.
const FLAG_SAMEFIELDS: i64 = 2;

/// Bytes of a listpack element's back-length for an encoding of `len` bytes.
fn backlen_bytes(len: u64) -> u64 {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// A listpack element holding an integer.
pub fn int_bytes(v: i64) -> u64 {
    let encoded = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    encoded + backlen_bytes(encoded)
}

/// A listpack element holding a string (stored as an integer when it is one).
pub fn str_bytes(s: &[u8]) -> u64 {
    if let Some(v) = parse_i64(s) {
        return int_bytes(v);
    }
    let len = s.len() as u64;
    let encoded = match len {
        0..=63 => 1 + len,
        64..=4095 => 2 + len,
        _ => 5 + len,
    };
    encoded + backlen_bytes(encoded)
}

/// The bytes of a new listpack holding only its master entry.
pub fn master_bytes(fields: &[&[u8]]) -> u64 {
    LISTPACK_EMPTY_BYTES
        + int_bytes(1)
        + int_bytes(0)
        + int_bytes(fields.len() as i64)
        + fields.iter().map(|f| str_bytes(f)).sum::<u64>()
        + int_bytes(0)
}

/// The bytes one entry adds to a node whose master ID is `master`.
/// `pairs` alternates fields and values.
pub fn entry_bytes(id: StreamId, master: StreamId, pairs: &[&[u8]], same_fields: bool) -> u64 {
    let numfields = (pairs.len() / 2) as i64;
    let flags = if same_fields { FLAG_SAMEFIELDS } else { 0 };
    // The deltas are stored as int64 of the unsigned differences.
    let mut bytes = int_bytes(flags)
        + int_bytes(id.ms.wrapping_sub(master.ms) as i64)
        + int_bytes(id.seq.wrapping_sub(master.seq) as i64);
    let mut lp_count = numfields + 3;
    if !same_fields {
        bytes += int_bytes(numfields);
        bytes += pairs.iter().step_by(2).map(|f| str_bytes(f)).sum::<u64>();
        lp_count += numfields + 1;
    }
    bytes += pairs.iter().skip(1).step_by(2).map(|v| str_bytes(v)).sum::<u64>();
    bytes + int_bytes(lp_count)
}

/// The size change of rewriting a counter from `old` to `new`.
pub fn counter_delta(old: u64, new: u64) -> i64 {
    int_bytes(new as i64) as i64 - int_bytes(old as i64) as i64
}

/// Longest common prefix of two keys, in bytes.
pub fn lcp(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// What [`rax_insert_delta`] needs to know about the keys around `key`.
pub trait RaxKeys {
    /// The greatest key below `key`.
    fn before(&mut self, key: &[u8; 16]) -> Option<[u8; 16]>;
    /// The smallest key above `key`.
    fn after(&mut self, key: &[u8; 16]) -> Option<[u8; 16]>;
    /// The smallest and the greatest key starting with `prefix`.
    fn prefix_bounds(&mut self, prefix: &[u8]) -> Option<([u8; 16], [u8; 16])>;
}

const KEY_LEN: usize = 16;

/// How many rax nodes inserting `key` (absent) into the set `keys` adds.
///
/// rax keeps a compressed trie: a chain of single-child nodes is one
/// "compressed" node, a node where keys diverge has one child per byte,
/// and each key ends in a leaf. Inserting either adds a child to an
/// existing divergence point, or splits the compressed node the new key
/// leaves in the middle of (`raxInsert`'s "algo 1").
pub fn rax_insert_delta(keys: &mut dyn RaxKeys, key: &[u8; 16]) -> i64 {
    let before = keys.before(key);
    let after = keys.after(key);
    if before.is_none() && after.is_none() {
        // The empty root becomes a compressed node with a leaf.
        return 1;
    }
    let depth = before.iter().chain(after.iter()).map(|n| lcp(key, n)).max().unwrap_or(0);
    let new_chain = if depth + 1 == KEY_LEN { 1 } else { 2 };
    let Some((first, last)) = keys.prefix_bounds(&key[..depth]) else { return new_chain };
    if first[depth] != last[depth] {
        return new_chain;
    }
    // `depth` lies inside a compressed node spanning [start, end).
    let end = if first == last { KEY_LEN } else { lcp(&first, &last) };
    let above = [keys.before(&first).map(|p| lcp(&p, &first)), keys.after(&last).map(|q| lcp(&last, &q))];
    let start = above.iter().flatten().max().map_or(0, |d| d + 1);
    i64::from(depth > start) + i64::from(end > depth + 1) + new_chain
}

/// The rax node count of a sorted set of keys, computed from scratch: the
/// reference [`rax_insert_delta`] is tested against.
#[cfg(test)]
pub fn rax_nodes_of(sorted: &[[u8; 16]]) -> i64 {
    fn count(keys: &[[u8; 16]], depth: usize) -> i64 {
        if depth == KEY_LEN {
            return 1;
        }
        let first = &keys[0];
        let last = &keys[keys.len() - 1];
        if first[depth] == last[depth] {
            let common = if keys.len() == 1 { KEY_LEN } else { lcp(first, last) };
            return 1 + count(keys, common);
        }
        1 + children(keys, depth)
    }
    fn children(keys: &[[u8; 16]], depth: usize) -> i64 {
        let mut total = 0;
        let mut at = 0;
        while at < keys.len() {
            let byte = keys[at][depth];
            let end = at + keys[at..].iter().take_while(|k| k[depth] == byte).count();
            total += count(&keys[at..end], depth + 1);
            at = end;
        }
        total
    }
    if sorted.is_empty() {
        return 1;
    }
    count(sorted, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    struct SetKeys<'a>(&'a BTreeSet<[u8; 16]>);

    impl RaxKeys for SetKeys<'_> {
        fn before(&mut self, key: &[u8; 16]) -> Option<[u8; 16]> {
            self.0.range(..*key).next_back().copied()
        }
        fn after(&mut self, key: &[u8; 16]) -> Option<[u8; 16]> {
            use std::ops::Bound;
            self.0.range((Bound::Excluded(*key), Bound::Unbounded)).next().copied()
        }
        fn prefix_bounds(&mut self, prefix: &[u8]) -> Option<([u8; 16], [u8; 16])> {
            let mut low = [0u8; 16];
            let mut high = [0xffu8; 16];
            low[..prefix.len()].copy_from_slice(prefix);
            high[..prefix.len()].copy_from_slice(prefix);
            let first = *self.0.range(low..=high).next()?;
            let last = *self.0.range(low..=high).next_back()?;
            Some((first, last))
        }
    }

    #[test]
    fn listpack_sizes_follow_the_encodings() {
        assert_eq!(int_bytes(0), 2);
        assert_eq!(int_bytes(127), 2);
        assert_eq!(int_bytes(128), 3);
        assert_eq!(int_bytes(-1), 3);
        assert_eq!(int_bytes(40000), 5);
        assert_eq!(int_bytes(i64::MAX), 10);
        assert_eq!(str_bytes(b"v"), 3);
        assert_eq!(str_bytes(b"12"), 2);
        assert_eq!(str_bytes(b"012"), 5);
        assert_eq!(str_bytes(&[b'x'; 63]), 65);
        assert_eq!(str_bytes(&[b'x'; 64]), 67);
        assert_eq!(str_bytes(&[b'x'; 200]), 204);
        // XADD s 1-1 f v: master entry plus the first entry.
        let id = StreamId::new(1, 1);
        let fields: [&[u8]; 1] = [b"f"];
        assert_eq!(master_bytes(&fields) + entry_bytes(id, id, &[b"f", b"v"], true), 29);
    }

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        StreamId::new(ms, seq).to_bytes()
    }

    #[test]
    fn rax_counts_match_known_trees() {
        assert_eq!(rax_nodes_of(&[]), 1);
        assert_eq!(rax_nodes_of(&[key(1, 1)]), 2);
        assert_eq!(rax_nodes_of(&[key(1, 1), key(1, 2)]), 4);
        assert_eq!(rax_nodes_of(&[key(1, 0), key(1 << 56, 0)]), 5);
    }

    #[test]
    fn incremental_rax_counts_match_a_recount() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for round in 0..60 {
            let mut set = BTreeSet::new();
            let mut nodes = 1i64;
            for _ in 0..80 {
                let spread = [4u64, 300, 70_000, u64::MAX][round % 4];
                let k = key(rng.gen_range(0..spread), rng.gen_range(0..[3u64, 1000][round % 2]));
                if set.contains(&k) {
                    set.remove(&k);
                    nodes -= rax_insert_delta(&mut SetKeys(&set), &k);
                } else {
                    nodes += rax_insert_delta(&mut SetKeys(&set), &k);
                    set.insert(k);
                }
                let sorted: Vec<_> = set.iter().copied().collect();
                assert_eq!(nodes, rax_nodes_of(&sorted), "round {round}");
            }
        }
    }
}
