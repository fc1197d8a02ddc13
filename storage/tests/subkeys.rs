//! Collection elements: reads in an apply see the apply's own writes merged
//! with stored ones in both directions, bounds are exact, and deleting or
//! overwriting a collection drops its elements with its generation.

use std::ops::{Bound, ControlFlow};

use storage::subkeys::ALL;
use storage::{ApplyTxn, Cf, CollectionMeta, Keyspace, ReadView, StoredValue, ValueKind};

fn elements(
    ks: &dyn Keyspace,
    key: &[u8],
    generation: u64,
    range: storage::subkeys::SubRange<'_>,
    reverse: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    ks.sub_scan(0, key, generation, range, reverse, &mut |name, value| {
        out.push(format!("{}={}", String::from_utf8_lossy(name), String::from_utf8_lossy(value)));
        ControlFlow::Continue(())
    })
    .expect("scan");
    out
}

fn list_value(generation: u64, len: u64) -> StoredValue {
    CollectionMeta { generation, len, extra: Default::default() }.to_value(ValueKind::List, 0, 0)
}

fn stored_subkeys(db: &storage::RocksDb) -> usize {
    db.iterator_cf(Cf::Subkeys.handle(db), rocksdb::IteratorMode::Start).count()
}

#[test]
fn scans_merge_buffered_and_stored_elements_in_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open_db(dir.path()).unwrap();
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(1, 10);
    let generation = txn.new_generation().unwrap();
    for (name, value) in [("a", "1"), ("b", "2"), ("d", "4")] {
        txn.sub_put(0, b"k", generation, name.as_bytes(), value.as_bytes()).unwrap();
    }
    txn.put(0, b"k", list_value(generation, 3)).unwrap();
    db.write(txn.into_batch()).unwrap();

    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(2, 11);
    txn.sub_delete(0, b"k", generation, b"b").unwrap();
    txn.sub_put(0, b"k", generation, b"c", b"3").unwrap();
    txn.sub_put(0, b"k", generation, b"d", b"44").unwrap();
    assert_eq!(elements(&txn, b"k", generation, ALL, false), ["a=1", "c=3", "d=44"]);
    assert_eq!(elements(&txn, b"k", generation, ALL, true), ["d=44", "c=3", "a=1"]);
    let middle = (Bound::Excluded(&b"a"[..]), Bound::Included(&b"c"[..]));
    assert_eq!(elements(&txn, b"k", generation, middle, false), ["c=3"]);
    assert_eq!(elements(&txn, b"k", generation, middle, true), ["c=3"]);
    assert_eq!(txn.sub_get(0, b"k", generation, b"b").unwrap(), None);
    assert_eq!(txn.sub_get(0, b"k", generation, b"d").unwrap(), Some(b"44".to_vec()));
    db.write(txn.into_batch()).unwrap();

    let view = ReadView::new(&db, 12).unwrap();
    assert_eq!(elements(&view, b"k", generation, ALL, false), ["a=1", "c=3", "d=44"]);
    assert_eq!(elements(&view, b"k", generation, (Bound::Unbounded, Bound::Excluded(&b"d"[..])), true), ["c=3", "a=1"]);
    // A scan stops where the visitor says.
    let mut first = Vec::new();
    view.sub_scan(0, b"k", generation, ALL, true, &mut |name, _| {
        first.push(name.to_vec());
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(first, vec![b"d".to_vec()]);
    // Another key's elements are not visible through this one.
    assert!(elements(&view, b"k2", generation, ALL, false).is_empty());
}

#[test]
fn deleting_or_overwriting_a_collection_drops_its_generation() {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open_db(dir.path()).unwrap();
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(1, 10);
    let first = txn.new_generation().unwrap();
    let second = txn.new_generation().unwrap();
    assert_ne!(first, second, "generations are unique within an entry");
    for i in 0..100u32 {
        txn.sub_put(0, b"a", first, &i.to_be_bytes(), b"x").unwrap();
        txn.sub_put(0, b"b", second, &i.to_be_bytes(), b"y").unwrap();
    }
    txn.put(0, b"a", list_value(first, 100)).unwrap();
    txn.put(0, b"b", list_value(second, 100)).unwrap();
    db.write(txn.into_batch()).unwrap();
    assert_eq!(stored_subkeys(&db), 200);

    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(2, 11);
    assert!(txn.delete(0, b"a").unwrap());
    // Overwriting with a string drops the old elements too.
    txn.put(0, b"b", StoredValue::string(&b"plain"[..], 0)).unwrap();
    assert!(elements(&txn, b"a", first, ALL, false).is_empty());
    let batch = txn.into_batch();
    assert!(batch.len() < 10, "dropping 200 elements takes a few range deletions, not {} writes", batch.len());
    db.write(batch).unwrap();
    assert_eq!(stored_subkeys(&db), 0);

    // The same key re-created gets a new generation, starting empty.
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(3, 12);
    let third = txn.new_generation().unwrap();
    assert!(third != first && third != second);
    assert!(elements(&txn, b"a", third, ALL, false).is_empty());
}

#[test]
fn updating_a_collection_in_place_keeps_its_elements() {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open_db(dir.path()).unwrap();
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(1, 10);
    let generation = txn.new_generation().unwrap();
    txn.sub_put(0, b"a", generation, b"e", b"1").unwrap();
    txn.put(0, b"a", list_value(generation, 1)).unwrap();
    txn.begin_entry(2, 10);
    txn.sub_put(0, b"a", generation, b"f", b"2").unwrap();
    txn.put(0, b"a", list_value(generation, 2)).unwrap();
    db.write(txn.into_batch()).unwrap();
    let view = ReadView::new(&db, 12).unwrap();
    assert_eq!(elements(&view, b"a", generation, ALL, false), ["e=1", "f=2"]);
    assert_eq!(view.get(0, b"a").unwrap().unwrap().header.modified_index, 2);
}
