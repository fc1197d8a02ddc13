//! Property tests: round trips, and that no input makes the parsers panic, hang or change their
//! answer depending on how the input was split.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use resp::{
    parse_frame, parse_request, parse_request_bytes, Frame, Limits, ProtocolError, RequestDecoder, RespVersion,
};

fn bytes_of(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Line payloads: anything but CR and LF, which the encoder would replace.
fn line_of(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'), 0..max).prop_map(Bytes::from)
}

fn big_number() -> impl Strategy<Value = Bytes> {
    "-?[0-9]{1,60}".prop_map(Bytes::from)
}

/// Doubles that compare equal to themselves (NaN is covered by unit tests).
fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("not NaN", |d| !d.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        (-1000i64..1000).prop_map(|n| n as f64 / 8.0),
    ]
}

fn scalar() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_of(20).prop_map(Frame::Simple),
        line_of(20).prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        bytes_of(40).prop_map(Frame::Bulk),
        Just(Frame::Null),
        double().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        big_number().prop_map(Frame::BigNumber),
        (any::<[u8; 3]>(), bytes_of(20)).prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ]
}

/// Any frame, except `NullArray`, which RESP3 cannot tell apart from `Null`.
fn frame() -> impl Strategy<Value = Frame> {
    scalar().prop_recursive(4, 64, 6, |inner| {
        let pairs = vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Frame::Array),
            vec(inner.clone(), 0..6).prop_map(Frame::Set),
            vec(inner.clone(), 0..6).prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attrs, value)| Frame::Attribute { attrs, value: Box::new(value) }),
        ]
    })
}

/// What a RESP2 client reads back from `frame`'s RESP2 encoding.
fn as_resp2(frame: Frame) -> Frame {
    let all = |items: Vec<Frame>| Frame::Array(items.into_iter().map(as_resp2).collect());
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => all(items),
        Frame::Map(pairs) => all(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        Frame::Double(d) => Frame::Bulk(resp::format_double(d).into()),
        Frame::Boolean(b) => Frame::Integer(b.into()),
        Frame::BigNumber(n) => Frame::Bulk(n),
        Frame::Verbatim { text, .. } => Frame::Bulk(text),
        Frame::Attribute { value, .. } => as_resp2(*value),
        other => other,
    }
}

fn request() -> impl Strategy<Value = Vec<Bytes>> {
    vec(bytes_of(30), 1..8)
}

fn multibulk(args: &[Bytes]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Input biased towards RESP syntax so that the parsers get past the first byte.
fn resp_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"-1".to_vec()),
        "[0-9]{1,3}".prop_map(String::into_bytes),
        "[+\\-:_,#(=%~>|!?tf\"' \\\\x]".prop_map(String::into_bytes),
        vec(any::<u8>(), 1..4),
    ];
    vec(token, 0..40).prop_map(|t| t.concat())
}

fn arbitrary_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..200), resp_like_bytes()]
}

/// Small limits, so that the limit checks are reachable with small inputs.
fn small_limits() -> Limits {
    Limits { bulk_bytes_max: 64, array_len_max: 16, nesting_max: 4, inline_bytes_max: 32 }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_frame_round_trips_through_resp3(frame in frame()) {
        let bytes = frame.to_bytes(RespVersion::Resp3);
        prop_assert_eq!(parse_frame(&bytes, &Limits::default()), Ok(Some((frame, bytes.len()))));
    }

    #[test]
    fn any_frame_reads_back_downgraded_from_resp2(frame in frame()) {
        let bytes = frame.to_bytes(RespVersion::Resp2);
        prop_assert_eq!(parse_frame(&bytes, &Limits::default()), Ok(Some((as_resp2(frame), bytes.len()))));
    }

    #[test]
    fn any_request_round_trips_as_multibulk(args in request()) {
        let bytes = multibulk(&args);
        prop_assert_eq!(parse_request(&bytes, &Limits::default()), Ok(Some((args.clone(), bytes.len()))));
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(parse_request_bytes(&mut buf, &Limits::default()), Ok(Some(args)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn plain_words_round_trip_as_an_inline_request(words in vec("[!#-&(-)+-~][!#-&(-~]{0,9}", 1..6)) {
        // No blanks or quotes, and no leading `*` (which would make it multibulk): the words come
        // back as they were.
        let line = format!("{}\r\n", words.join(" "));
        let args: Vec<Bytes> = words.into_iter().map(Bytes::from).collect();
        prop_assert_eq!(parse_request(line.as_bytes(), &Limits::default()), Ok(Some((args, line.len()))));
    }

    #[test]
    fn a_pipeline_split_anywhere_parses_the_same(
        requests in vec(request(), 1..5),
        cuts in vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let bytes: Vec<u8> = requests.iter().flat_map(|r| multibulk(r)).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|i| i.index(bytes.len())).collect();
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut decoder = RequestDecoder::default();
        let (mut buf, mut got, mut start) = (BytesMut::new(), Vec::new(), 0);
        for cut in cuts {
            buf.extend_from_slice(&bytes[start..cut]);
            start = cut;
            while let Some(args) = decoder.decode(&mut buf).map_err(|e| TestCaseError::fail(e.to_string()))? {
                got.push(args);
            }
        }
        prop_assert_eq!(got, requests);
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_parser(input in arbitrary_input()) {
        for limits in [Limits::default(), small_limits()] {
            let _ = parse_request(&input, &limits);
            let _ = parse_frame(&input, &limits);
            let mut buf = BytesMut::from(&input[..]);
            // Every successful call consumes bytes, so this loop ends.
            while let Ok(Some(_)) = parse_request_bytes(&mut buf, &limits) {}
            let mut decoder = RequestDecoder::new(limits.clone());
            let mut buf = BytesMut::new();
            for chunk in input.chunks(3) {
                buf.extend_from_slice(chunk);
                while let Ok(Some(_)) = decoder.decode(&mut buf) {}
            }
        }
    }

    #[test]
    fn arbitrary_input_fed_in_pieces_gives_the_requests_it_gives_whole(input in arbitrary_input(), size in 1usize..8) {
        let limits = small_limits();
        let mut whole = Vec::new();
        let mut pos = 0;
        while let Ok(Some((args, used))) = parse_request(&input[pos..], &limits) {
            prop_assert!(used > 0);
            whole.push(args);
            pos += used;
        }
        let mut decoder = RequestDecoder::new(limits);
        let (mut buf, mut pieces) = (BytesMut::new(), Vec::new());
        'feed: for piece in input.chunks(size) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(args)) => pieces.push(args),
                    Ok(None) => break,
                    // Only a Redis-style size check can fail in pieces and not whole; either
                    // way the connection would end here.
                    Err(_) => break 'feed,
                }
            }
        }
        prop_assert!(pieces.len() <= whole.len());
        prop_assert_eq!(&pieces[..], &whole[..pieces.len()]);
    }

    #[test]
    fn any_parsed_frame_re_encodes_to_bytes_that_parse_to_the_same_encoding(input in arbitrary_input()) {
        if let Ok(Some((frame, _))) = parse_frame(&input, &Limits::default()) {
            let encoded = frame.to_bytes(RespVersion::Resp3);
            let again = parse_frame(&encoded, &Limits::default());
            let Ok(Some((again, used))) = again else {
                return Err(TestCaseError::fail(format!("{encoded:?} did not parse: {again:?}")));
            };
            prop_assert_eq!(used, encoded.len());
            prop_assert_eq!(again.to_bytes(RespVersion::Resp3), encoded);
        }
    }

    #[test]
    fn parse_request_answers_consistently_for_every_prefix(input in arbitrary_input()) {
        check_prefixes(&input, true, |b| parse_request(b, &small_limits()).map(|r| r.map(|(_, n)| n)))?;
    }

    #[test]
    fn parse_frame_answers_consistently_for_every_prefix(input in arbitrary_input()) {
        check_prefixes(&input, false, |b| parse_frame(b, &small_limits()).map(|r| r.map(|(_, n)| n)))?;
    }
}

/// Whatever `parse` says about `input` it must already have said, or be waiting to say, about
/// each prefix: a complete result needs all its bytes and no more; an error stays an error.
///
/// With `redis_size_checks`, a prefix may also fail a "too big" check that the whole input
/// passes: Redis applies those limits only to what is buffered without a terminator, so a long
/// line that arrives in one read is accepted while the same line arriving in pieces is not.
fn check_prefixes(
    input: &[u8],
    redis_size_checks: bool,
    parse: impl Fn(&[u8]) -> Result<Option<usize>, ProtocolError>,
) -> Result<(), TestCaseError> {
    let full = parse(input);
    for cut in 0..input.len() {
        let partial = parse(&input[..cut]);
        if redis_size_checks
            && matches!(
                partial,
                Err(ProtocolError::TooBigInlineRequest
                    | ProtocolError::TooBigBulkCount
                    | ProtocolError::TooBigMultibulkCount)
            )
        {
            continue;
        }
        match (&full, &partial) {
            (Ok(Some(n)), _) if cut < *n => prop_assert_eq!(&partial, &Ok(None), "cut {}", cut),
            (Ok(Some(_)), _) => prop_assert_eq!(&partial, &full, "cut {}", cut),
            (Ok(None), _) => prop_assert_eq!(&partial, &Ok(None), "cut {}", cut),
            (Err(_), Err(_)) | (Err(_), Ok(None)) => {}
            (Err(_), Ok(Some(_))) => prop_assert!(false, "prefix {} complete but whole input invalid", cut),
        }
    }
    Ok(())
}
