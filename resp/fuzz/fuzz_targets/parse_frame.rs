//! Run with `cargo +nightly fuzz run parse_frame` from `resp/`.
//! Checks that no input panics, and that any frame parsed re-encodes to bytes that parse back
//! to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resp::{parse_frame, Frame, Limits, RespVersion};

/// NaN never equals itself and `*-1` re-encodes as RESP3 `_`: compare encodings instead.
fn same(a: &Frame, b: &Frame) -> bool {
    a.to_bytes(RespVersion::Resp3) == b.to_bytes(RespVersion::Resp3)
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { bulk_bytes_max: 256, array_len_max: 64, nesting_max: 8, inline_bytes_max: 128 };
    let mut pos = 0;
    while let Ok(Some((frame, used))) = parse_frame(&data[pos..], &limits) {
        assert!(used > 0 && pos + used <= data.len());
        pos += used;
        let encoded = frame.to_bytes(RespVersion::Resp3);
        match parse_frame(&encoded, &Limits::default()) {
            Ok(Some((again, n))) => assert!(n == encoded.len() && same(&frame, &again)),
            other => panic!("re-encoded frame did not parse: {other:?}"),
        }
        let _ = frame.to_bytes(RespVersion::Resp2);
    }
});
