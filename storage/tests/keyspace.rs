//! The keyspace as command code sees it: writes buffered in one apply are
//! visible to later reads of the same apply, key counts and the expiry index
//! follow every change, and a FLUSHDB inside a batch hides older keys.

use std::ops::ControlFlow;

use storage::{ApplyTxn, Cf, Keyspace, ReadView, StoredValue};

fn scan_all(ks: &dyn Keyspace, db: u16) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let next = ks
        .scan_from_slot(db, 0, &mut |key, _| {
            keys.push(key.to_vec());
            ControlFlow::Continue(())
        })
        .expect("scan");
    assert_eq!(next, storage::keys::SLOT_COUNT);
    keys.sort();
    keys
}

#[test]
fn writes_in_one_apply_are_read_back_before_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open_db(dir.path()).unwrap();
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(1, 1_000);
    txn.put(0, b"a", StoredValue::string(&b"1"[..], 0)).unwrap();
    txn.put(0, b"b", StoredValue::string(&b"2"[..], 5_000)).unwrap();
    assert_eq!(txn.get(0, b"a").unwrap().unwrap().payload.as_ref(), b"1");
    assert_eq!(txn.db_size(0).unwrap(), 2);
    assert_eq!(scan_all(&txn, 0), vec![b"a".to_vec(), b"b".to_vec()]);
    txn.begin_entry(2, 1_001);
    assert!(txn.delete(0, b"a").unwrap());
    assert!(!txn.delete(0, b"a").unwrap());
    assert_eq!(scan_all(&txn, 0), vec![b"b".to_vec()]);
    db.write(txn.into_batch()).unwrap();

    let view = ReadView::new(&db, 1_002).unwrap();
    assert_eq!(view.db_size(0).unwrap(), 1);
    let b = view.get(0, b"b").unwrap().unwrap();
    assert_eq!(b.header.modified_index, 1);
    assert_eq!(b.header.expire_at_ms, 5_000);
    assert!(view.get(0, b"a").unwrap().is_none());
    let expiring: Vec<_> = db.iterator_cf(Cf::Expires.handle(&db), rocksdb::IteratorMode::Start).collect();
    assert_eq!(expiring.len(), 1, "one expiry index entry for the one expiring key");
    assert_eq!(view.expires_count(0).unwrap(), 1);

    let later = ReadView::new(&db, 5_000).unwrap();
    assert!(later.get(0, b"b").unwrap().is_none(), "expired keys read as absent");
    assert!(later.get_raw(0, b"b").unwrap().is_some(), "until they are purged");
}

#[test]
fn flushdb_inside_a_batch_hides_older_keys_but_not_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open_db(dir.path()).unwrap();
    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(1, 10);
    txn.put(0, b"old", StoredValue::string(&b"x"[..], 0)).unwrap();
    txn.put(1, b"other-db", StoredValue::string(&b"x"[..], 0)).unwrap();
    db.write(txn.into_batch()).unwrap();

    let mut txn = ApplyTxn::new(&db);
    txn.begin_entry(2, 11);
    txn.flush_db(0).unwrap();
    assert!(txn.get(0, b"old").unwrap().is_none());
    txn.put(0, b"new", StoredValue::string(&b"y"[..], 0)).unwrap();
    assert_eq!(scan_all(&txn, 0), vec![b"new".to_vec()]);
    assert_eq!(txn.flush_index(0).unwrap(), 2);
    db.write(txn.into_batch()).unwrap();

    let view = ReadView::new(&db, 12).unwrap();
    assert!(view.get(0, b"old").unwrap().is_none());
    assert!(view.get(0, b"new").unwrap().is_some());
    assert!(view.get(1, b"other-db").unwrap().is_some(), "other databases are untouched");
    assert_eq!(view.db_size(0).unwrap(), 1);
    assert_eq!(view.flush_index(0).unwrap(), 2);
}
