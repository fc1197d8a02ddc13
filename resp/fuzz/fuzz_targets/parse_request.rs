//! Run with `cargo +nightly fuzz run parse_request` from `resp/`.
//! Checks that no input panics, and that feeding the input in pieces to a `RequestDecoder`
//! yields the same requests as parsing it whole.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use resp::{parse_request, parse_request_bytes, Limits, RequestDecoder};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size; small limits make the limit checks reachable.
    let Some((&chunk, input)) = data.split_first() else { return };
    let limits = Limits { bulk_bytes_max: 256, array_len_max: 64, nesting_max: 8, inline_bytes_max: 128 };

    let mut whole = Vec::new();
    let mut pos = 0;
    while let Ok(Some((args, used))) = parse_request(&input[pos..], &limits) {
        assert!(used > 0 && pos + used <= input.len());
        whole.push(args);
        pos += used;
    }

    let mut buf = BytesMut::from(input);
    let mut split_off = Vec::new();
    while let Ok(Some(args)) = parse_request_bytes(&mut buf, &limits) {
        split_off.push(args);
    }
    assert_eq!(whole, split_off);

    // In pieces, a request can only fail a size check that the whole input passed (as in
    // Redis), so compare only when the pieces all parsed without error.
    let mut decoder = RequestDecoder::new(limits);
    let mut buf = BytesMut::new();
    let mut pieces = Vec::new();
    for piece in input.chunks(usize::from(chunk).max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(args)) => pieces.push(args),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert_eq!(whole, pieces);
});
