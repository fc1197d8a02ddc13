//! Element access for collections: turning a range of element names into a
//! range of `subkeys` column family keys, and merging the elements an apply
//! transaction has buffered with those already stored.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use crate::keys;
use crate::{DbIndex, Keyspace, StorageError};

/// A range of element names (the bytes after a collection's prefix).
pub type SubRange<'r> = (Bound<&'r [u8]>, Bound<&'r [u8]>);

/// A visitor of elements: gets each element's name and value, and says
/// whether to go on.
pub type ElementVisitor<'v> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'v;

/// A buffered write of one element: `None` deletes it.
type PendingWrite<'p> = (&'p Vec<u8>, &'p Option<Vec<u8>>);

/// Every element.
pub const ALL: SubRange<'static> = (Bound::Unbounded, Bound::Unbounded);

/// The `subkeys` keys of `range` within one generation, as a half-open range
/// `[low, high)`; `high` is `None` when the range runs to the end of the
/// column family.
pub(crate) fn full_range(prefix: &[u8], range: SubRange<'_>) -> (Vec<u8>, Option<Vec<u8>>) {
    let joined = |sub: &[u8], successor: bool| {
        let mut key = Vec::with_capacity(prefix.len() + sub.len() + 1);
        key.extend_from_slice(prefix);
        key.extend_from_slice(sub);
        if successor {
            // The smallest byte string greater than `key`.
            key.push(0);
        }
        key
    };
    let low = match range.0 {
        Bound::Included(sub) => joined(sub, false),
        Bound::Excluded(sub) => joined(sub, true),
        Bound::Unbounded => prefix.to_vec(),
    };
    let high = match range.1 {
        Bound::Included(sub) => Some(joined(sub, true)),
        Bound::Excluded(sub) => Some(joined(sub, false)),
        Bound::Unbounded => keys::prefix_end(prefix),
    };
    (low, high)
}

/// Visits the union of stored elements (`stored`, already bounded and in
/// iteration order) and buffered ones (`pending`, where `None` deletes), in
/// order, the buffered version winning. Names passed to `visit` have the
/// first `prefix_len` bytes removed.
pub(crate) fn merge_visit<'p>(
    stored: impl Iterator<Item = Result<(Box<[u8]>, Box<[u8]>), rocksdb::Error>>,
    pending: impl Iterator<Item = PendingWrite<'p>>,
    reverse: bool,
    prefix_len: usize,
    visit: &mut ElementVisitor<'_>,
) -> Result<(), StorageError> {
    let mut stored = stored.peekable();
    let mut pending = pending.peekable();
    enum Next {
        Stored,
        Pending,
        /// The same name on both sides: the buffered write replaces the stored one.
        Both,
    }
    loop {
        let next = match (stored.peek(), pending.peek()) {
            (None, None) => return Ok(()),
            (Some(Err(_)), _) | (Some(_), None) => Next::Stored,
            (None, Some(_)) => Next::Pending,
            (Some(Ok((s, _))), Some((p, _))) => match s.as_ref().cmp(p.as_slice()) {
                std::cmp::Ordering::Equal => Next::Both,
                order if (order == std::cmp::Ordering::Greater) != reverse => Next::Pending,
                _ => Next::Stored,
            },
        };
        let take_pending = match next {
            Next::Stored => false,
            Next::Pending => true,
            Next::Both => {
                stored.next();
                true
            }
        };
        let flow = if take_pending {
            let (key, value) = pending.next().expect("peeked");
            match value {
                Some(value) => visit(&key[prefix_len..], value),
                None => ControlFlow::Continue(()),
            }
        } else {
            let (key, value) = stored.next().expect("peeked")?;
            visit(&key[prefix_len..], &value)
        };
        if flow.is_break() {
            return Ok(());
        }
    }
}

/// The buffered writes of `[low, high)` in iteration order.
pub(crate) fn pending_range<'p>(
    pending: &'p BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    low: Vec<u8>,
    high: Option<Vec<u8>>,
    reverse: bool,
) -> Box<dyn Iterator<Item = PendingWrite<'p>> + 'p> {
    let range = match high {
        Some(high) => pending.range(low..high),
        None => pending.range(low..),
    };
    if reverse {
        Box::new(range.rev())
    } else {
        Box::new(range)
    }
}

/// Copies every element of one collection generation to another key and
/// generation (RENAME, MOVE, COPY of a collection), and its companion
/// generation (a hash's field expiries, see [`crate::field_expiry`]; one
/// empty seek for other collections). Returns the number of elements copied.
///
/// # Errors
/// Storage errors; [`StorageError::ReadOnly`] on a read view.
pub fn copy_elements(
    ks: &mut dyn Keyspace,
    from: (DbIndex, &[u8], u64),
    to: (DbIndex, &[u8], u64),
) -> Result<u64, StorageError> {
    let copied = copy_generation(ks, from, to)?;
    let companion = crate::field_expiry::companion;
    copy_generation(ks, (from.0, from.1, companion(from.2)), (to.0, to.1, companion(to.2)))?;
    Ok(copied)
}

fn copy_generation(
    ks: &mut dyn Keyspace,
    from: (DbIndex, &[u8], u64),
    to: (DbIndex, &[u8], u64),
) -> Result<u64, StorageError> {
    let mut elements = Vec::new();
    ks.sub_scan(from.0, from.1, from.2, ALL, false, &mut |sub, value| {
        elements.push((sub.to_vec(), value.to_vec()));
        ControlFlow::Continue(())
    })?;
    for (sub, value) in &elements {
        ks.sub_put(to.0, to.1, to.2, sub, value)?;
    }
    Ok(elements.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_exactly_the_requested_names() {
        let prefix = b"P".to_vec();
        assert_eq!(full_range(&prefix, ALL), (b"P".to_vec(), Some(b"Q".to_vec())));
        let (low, high) = full_range(&prefix, (Bound::Excluded(b"a"), Bound::Included(b"c")));
        assert_eq!(low, b"Pa\0".to_vec());
        assert_eq!(high, Some(b"Pc\0".to_vec()));
        let (low, high) = full_range(&prefix, (Bound::Included(b"a"), Bound::Excluded(b"c")));
        assert_eq!((low, high), (b"Pa".to_vec(), Some(b"Pc".to_vec())));
    }

    #[test]
    fn merging_prefers_buffered_writes_and_honours_direction() {
        let stored =
            [(b"Pa".to_vec(), b"1".to_vec()), (b"Pb".to_vec(), b"2".to_vec()), (b"Pd".to_vec(), b"4".to_vec())];
        let mut pending = BTreeMap::new();
        pending.insert(b"Pb".to_vec(), None);
        pending.insert(b"Pc".to_vec(), Some(b"3".to_vec()));
        pending.insert(b"Pd".to_vec(), Some(b"44".to_vec()));
        for reverse in [false, true] {
            let mut rows: Vec<_> =
                stored.iter().map(|(k, v)| Ok((k.clone().into_boxed_slice(), v.clone().into_boxed_slice()))).collect();
            if reverse {
                rows.reverse();
            }
            let mut seen = Vec::new();
            merge_visit(
                rows.into_iter(),
                pending_range(&pending, b"P".to_vec(), Some(b"Q".to_vec()), reverse),
                reverse,
                1,
                &mut |k, v| {
                    seen.push((k.to_vec(), v.to_vec()));
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
            let mut expected =
                vec![(b"a".to_vec(), b"1".to_vec()), (b"c".to_vec(), b"3".to_vec()), (b"d".to_vec(), b"44".to_vec())];
            if reverse {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }
}
