use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

#[test]
fn xadd_and_xrange_round_trip() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["XADD", "s", "1-1", "f", "v"]), bulk("1-1"));
    assert_eq!(
        ks.exec(&["XRANGE", "s", "-", "+"]),
        array(vec![array(vec![bulk("1-1"), array(vec![bulk("f"), bulk("v")])])])
    );
    assert_eq!(ks.exec(&["XLEN", "s"]), int(1));
    let _ = (err(""), ok(), Frame::Null);
}
