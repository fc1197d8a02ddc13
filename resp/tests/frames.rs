//! Encoding of every frame type in both protocol versions, and `parse_frame` on valid,
//! incomplete and invalid input.

use bytes::{Bytes, BytesMut};
use resp::{parse_frame, Frame, Limits, ProtocolError, RespVersion};

use RespVersion::{Resp2, Resp3};

fn enc(frame: &Frame, version: RespVersion) -> Vec<u8> {
    frame.to_bytes(version).to_vec()
}

fn parse(input: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    parse_frame(input, &Limits::default())
}

fn parse_whole(input: &[u8]) -> Frame {
    match parse(input) {
        Ok(Some((frame, used))) => {
            assert_eq!(used, input.len(), "frame did not use all of {:?}", String::from_utf8_lossy(input));
            frame
        }
        other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
    }
}

fn b(s: &'static str) -> Frame {
    Frame::bulk(s)
}

#[test]
fn scalar_frames_encode_the_same_in_both_versions() {
    for version in [Resp2, Resp3] {
        assert_eq!(enc(&Frame::ok(), version), b"+OK\r\n");
        assert_eq!(enc(&Frame::simple("PONG"), version), b"+PONG\r\n");
        assert_eq!(enc(&Frame::error("ERR syntax error"), version), b"-ERR syntax error\r\n");
        assert_eq!(enc(&Frame::Integer(0), version), b":0\r\n");
        assert_eq!(enc(&Frame::Integer(-42), version), b":-42\r\n");
        assert_eq!(enc(&Frame::Integer(i64::MIN), version), b":-9223372036854775808\r\n");
        assert_eq!(enc(&b("foo"), version), b"$3\r\nfoo\r\n");
        assert_eq!(enc(&b(""), version), b"$0\r\n\r\n");
        assert_eq!(enc(&Frame::bulk(&b"a\r\nb\0"[..]), version), b"$5\r\na\r\nb\0\r\n");
        assert_eq!(enc(&Frame::Array(vec![]), version), b"*0\r\n");
        assert_eq!(enc(&Frame::Array(vec![b("a"), Frame::Integer(1)]), version), b"*2\r\n$1\r\na\r\n:1\r\n");
    }
}

#[test]
fn nulls_are_distinct_in_resp2_and_the_same_in_resp3() {
    assert_eq!(enc(&Frame::Null, Resp2), b"$-1\r\n");
    assert_eq!(enc(&Frame::NullArray, Resp2), b"*-1\r\n");
    assert_eq!(enc(&Frame::Null, Resp3), b"_\r\n");
    assert_eq!(enc(&Frame::NullArray, Resp3), b"_\r\n");
}

#[test]
fn a_map_is_a_flat_array_in_resp2() {
    let map = Frame::Map(vec![(b("k1"), Frame::Integer(1)), (b("k2"), Frame::Null)]);
    assert_eq!(enc(&map, Resp3), b"%2\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n_\r\n");
    assert_eq!(enc(&map, Resp2), b"*4\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$-1\r\n");
    assert_eq!(enc(&Frame::Map(vec![]), Resp2), b"*0\r\n");
}

#[test]
fn sets_and_pushes_are_arrays_in_resp2() {
    let items = vec![b("a"), b("b")];
    assert_eq!(enc(&Frame::Set(items.clone()), Resp3), b"~2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(enc(&Frame::Set(items.clone()), Resp2), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(enc(&Frame::Push(items.clone()), Resp3), b">2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(enc(&Frame::Push(items), Resp2), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
}

#[test]
fn a_double_is_a_bulk_string_of_the_same_text_in_resp2() {
    assert_eq!(enc(&Frame::Double(1.5), Resp3), b",1.5\r\n");
    assert_eq!(enc(&Frame::Double(1.5), Resp2), b"$3\r\n1.5\r\n");
    assert_eq!(enc(&Frame::Double(3.0), Resp3), b",3\r\n");
    assert_eq!(enc(&Frame::Double(f64::INFINITY), Resp3), b",inf\r\n");
    assert_eq!(enc(&Frame::Double(f64::NEG_INFINITY), Resp2), b"$4\r\n-inf\r\n");
    assert_eq!(enc(&Frame::Double(f64::NAN), Resp3), b",nan\r\n");
    assert_eq!(enc(&Frame::Double(1e21), Resp3), b",1e+21\r\n");
}

#[test]
fn a_boolean_is_an_integer_in_resp2() {
    assert_eq!(enc(&Frame::Boolean(true), Resp3), b"#t\r\n");
    assert_eq!(enc(&Frame::Boolean(false), Resp3), b"#f\r\n");
    assert_eq!(enc(&Frame::Boolean(true), Resp2), b":1\r\n");
    assert_eq!(enc(&Frame::Boolean(false), Resp2), b":0\r\n");
}

#[test]
fn a_big_number_is_a_bulk_string_in_resp2() {
    let n = Frame::BigNumber(Bytes::from_static(b"3492890328409238509324850943850943825024385"));
    assert_eq!(enc(&n, Resp3), b"(3492890328409238509324850943850943825024385\r\n");
    assert_eq!(enc(&n, Resp2), b"$43\r\n3492890328409238509324850943850943825024385\r\n");
}

#[test]
fn a_verbatim_string_counts_its_format_prefix_in_resp3_and_drops_it_in_resp2() {
    let v = Frame::Verbatim { format: *b"txt", text: Bytes::from_static(b"Some string") };
    assert_eq!(enc(&v, Resp3), b"=15\r\ntxt:Some string\r\n");
    assert_eq!(enc(&v, Resp2), b"$11\r\nSome string\r\n");
}

#[test]
fn attributes_are_dropped_in_resp2() {
    let a = Frame::Attribute { attrs: vec![(b("ttl"), Frame::Integer(3))], value: Box::new(b("v")) };
    assert_eq!(enc(&a, Resp3), b"|1\r\n$3\r\nttl\r\n:3\r\n$1\r\nv\r\n");
    assert_eq!(enc(&a, Resp2), b"$1\r\nv\r\n");
}

#[test]
fn nested_aggregates_downgrade_all_the_way_down_in_resp2() {
    let f = Frame::Array(vec![Frame::Map(vec![(b("k"), Frame::Set(vec![Frame::Boolean(true)]))])]);
    assert_eq!(enc(&f, Resp2), b"*1\r\n*2\r\n$1\r\nk\r\n*1\r\n:1\r\n");
    assert_eq!(enc(&f, Resp3), b"*1\r\n%1\r\n$1\r\nk\r\n~1\r\n#t\r\n");
}

#[test]
fn newlines_inside_simple_strings_and_errors_become_spaces() {
    assert_eq!(enc(&Frame::error("ERR bad\r\nthing"), Resp2), b"-ERR bad  thing\r\n");
    assert_eq!(enc(&Frame::simple("a\nb"), Resp3), b"+a b\r\n");
}

#[test]
fn encode_appends_to_what_is_already_in_the_buffer() {
    let mut dst = BytesMut::from(&b"+first\r\n"[..]);
    Frame::Integer(7).encode(&mut dst, Resp2);
    assert_eq!(&dst[..], b"+first\r\n:7\r\n");
}

#[test]
fn every_frame_type_parses() {
    assert_eq!(parse_whole(b"+OK\r\n"), Frame::ok());
    assert_eq!(parse_whole(b"+\r\n"), Frame::simple(""));
    assert_eq!(parse_whole(b"-ERR no\r\n"), Frame::error("ERR no"));
    assert_eq!(parse_whole(b":-12\r\n"), Frame::Integer(-12));
    assert_eq!(parse_whole(b":+12\r\n"), Frame::Integer(12));
    assert_eq!(parse_whole(b"$3\r\nf\ro\r\n"), b("f\ro"));
    assert_eq!(parse_whole(b"$0\r\n\r\n"), b(""));
    assert_eq!(parse_whole(b"$-1\r\n"), Frame::Null);
    assert_eq!(parse_whole(b"*-1\r\n"), Frame::NullArray);
    assert_eq!(parse_whole(b"_\r\n"), Frame::Null);
    assert_eq!(parse_whole(b"*2\r\n:1\r\n$1\r\nx\r\n"), Frame::Array(vec![Frame::Integer(1), b("x")]));
    assert_eq!(parse_whole(b",1.25\r\n"), Frame::Double(1.25));
    assert_eq!(parse_whole(b",-1.5e-3\r\n"), Frame::Double(-0.0015));
    assert_eq!(parse_whole(b",10\r\n"), Frame::Double(10.0));
    assert_eq!(parse_whole(b",inf\r\n"), Frame::Double(f64::INFINITY));
    assert_eq!(parse_whole(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
    assert!(matches!(parse_whole(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
    assert_eq!(parse_whole(b"#t\r\n"), Frame::Boolean(true));
    assert_eq!(parse_whole(b"#f\r\n"), Frame::Boolean(false));
    assert_eq!(
        parse_whole(b"(-123456789012345678901234567890\r\n"),
        Frame::BigNumber("-123456789012345678901234567890".into())
    );
    assert_eq!(parse_whole(b"=8\r\nmkd:# hi\r\n"), Frame::Verbatim { format: *b"mkd", text: "# hi".into() });
    assert_eq!(parse_whole(b"!8\r\nERR x\r\ny\r\n"), Frame::error("ERR x\r\ny"));
    assert_eq!(parse_whole(b"%1\r\n+k\r\n:1\r\n"), Frame::Map(vec![(Frame::simple("k"), Frame::Integer(1))]));
    assert_eq!(parse_whole(b"~1\r\n:1\r\n"), Frame::Set(vec![Frame::Integer(1)]));
    assert_eq!(
        parse_whole(b">2\r\n+message\r\n:1\r\n"),
        Frame::Push(vec![Frame::simple("message"), Frame::Integer(1)])
    );
    assert_eq!(
        parse_whole(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n"),
        Frame::Attribute {
            attrs: vec![(Frame::simple("key-popularity"), Frame::Map(vec![(b("a"), Frame::Double(0.19))]))],
            value: Box::new(Frame::Array(vec![Frame::Integer(2)])),
        }
    );
}

#[test]
fn parse_frame_reports_how_much_it_used_and_leaves_the_rest() {
    assert_eq!(parse(b":1\r\n:2\r\n"), Ok(Some((Frame::Integer(1), 4))));
}

#[test]
fn a_frame_cut_at_any_point_is_incomplete_not_an_error() {
    let frame = Frame::Array(vec![
        Frame::Map(vec![(b("k"), Frame::Double(2.5)), (Frame::Integer(1), Frame::Boolean(true))]),
        Frame::Verbatim { format: *b"txt", text: "hello\r\nworld".into() },
        Frame::Attribute { attrs: vec![(Frame::simple("a"), Frame::Null)], value: Box::new(b("v")) },
        Frame::Push(vec![Frame::BigNumber("12345".into()), Frame::error("ERR e")]),
        Frame::Set(vec![]),
        Frame::Bulk(Bytes::from(vec![b'\r'; 40])),
    ]);
    let bytes = enc(&frame, Resp3);
    for cut in 0..bytes.len() {
        assert_eq!(parse(&bytes[..cut]), Ok(None), "cut at {cut}");
    }
    assert_eq!(parse(&bytes), Ok(Some((frame, bytes.len()))));
}

#[test]
fn malformed_scalars_are_protocol_errors() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"?\r\n", ProtocolError::InvalidFrameType(b'?')),
        (b"PING\r\n", ProtocolError::InvalidFrameType(b'P')),
        (b":1.5\r\n", ProtocolError::InvalidInteger),
        (b":\r\n", ProtocolError::InvalidInteger),
        (b":99999999999999999999\r\n", ProtocolError::InvalidInteger),
        (b",abc\r\n", ProtocolError::InvalidDouble),
        (b",\r\n", ProtocolError::InvalidDouble),
        (b"#x\r\n", ProtocolError::InvalidBoolean),
        (b"#true\r\n", ProtocolError::InvalidBoolean),
        (b"(12a\r\n", ProtocolError::InvalidBigNumber),
        (b"(\r\n", ProtocolError::InvalidBigNumber),
        (b"_x\r\n", ProtocolError::InvalidNull),
        (b"=3\r\ntxt\r\n", ProtocolError::InvalidVerbatim),
        (b"=5\r\ntxt-x\r\n", ProtocolError::InvalidVerbatim),
        (b"+OK\rX", ProtocolError::ExpectedCrlf),
        (b"$3\r\nfooXY", ProtocolError::ExpectedCrlf),
        (b"$?\r\n", ProtocolError::StreamedUnsupported),
        (b"*?\r\n", ProtocolError::StreamedUnsupported),
        (b"%?\r\n", ProtocolError::StreamedUnsupported),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input).as_ref(), Err(expected), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn malformed_lengths_are_protocol_errors() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"$-2\r\n", ProtocolError::InvalidBulkLength),
        (b"$x\r\n", ProtocolError::InvalidBulkLength),
        (b"$\r\n", ProtocolError::InvalidBulkLength),
        (b"$+1\r\n", ProtocolError::InvalidBulkLength),
        (b"$536870913\r\n", ProtocolError::InvalidBulkLength),
        (b"!-1\r\n", ProtocolError::InvalidBulkLength),
        (b"=-1\r\n", ProtocolError::InvalidBulkLength),
        (b"*-2\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*1x\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*1048577\r\n", ProtocolError::InvalidMultibulkLength),
        (b"%-1\r\n", ProtocolError::InvalidMultibulkLength),
        (b"~-1\r\n", ProtocolError::InvalidMultibulkLength),
        (b">-1\r\n", ProtocolError::InvalidMultibulkLength),
        (b"|-1\r\n", ProtocolError::InvalidMultibulkLength),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input).as_ref(), Err(expected), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn an_error_deep_inside_an_aggregate_is_reported() {
    assert_eq!(parse(b"*2\r\n:1\r\n*1\r\n#maybe\r\n"), Err(ProtocolError::InvalidBoolean));
}

#[test]
fn overlong_unterminated_lines_are_errors_without_waiting_for_the_end() {
    let limits = Limits { inline_bytes_max: 16, bulk_bytes_max: 32, ..Limits::default() };
    let header = |tag: u8| [&[tag][..], &[b'1'; 17]].concat();
    assert_eq!(parse_frame(&header(b'$'), &limits), Err(ProtocolError::TooBigBulkCount));
    assert_eq!(parse_frame(&header(b'*'), &limits), Err(ProtocolError::TooBigMultibulkCount));
    assert_eq!(parse_frame(&header(b'%'), &limits), Err(ProtocolError::TooBigMultibulkCount));
    let simple = [&b"+"[..], &[b'a'; 33]].concat();
    assert_eq!(parse_frame(&simple, &limits), Err(ProtocolError::TooBigLine));
    // At the limit it is still just incomplete.
    assert_eq!(parse_frame(&simple[..33], &limits), Ok(None));
}

#[test]
fn bulk_and_array_limits_come_from_the_limits() {
    let limits = Limits { bulk_bytes_max: 3, array_len_max: 2, ..Limits::default() };
    assert!(parse_frame(b"$3\r\nabc\r\n", &limits).is_ok());
    assert_eq!(parse_frame(b"$4\r\nabcd\r\n", &limits), Err(ProtocolError::InvalidBulkLength));
    assert!(parse_frame(b"*2\r\n:1\r\n:2\r\n", &limits).is_ok());
    assert_eq!(parse_frame(b"*3\r\n", &limits), Err(ProtocolError::InvalidMultibulkLength));
    assert_eq!(parse_frame(b"%3\r\n", &limits), Err(ProtocolError::InvalidMultibulkLength));
}

#[test]
fn deeply_nested_input_is_rejected_instead_of_overflowing_the_stack() {
    let deep = b"*1\r\n".repeat(100_000);
    assert_eq!(parse(&deep), Err(ProtocolError::NestingTooDeep));
    let ok = [b"*1\r\n".repeat(128), b":1\r\n".to_vec()].concat();
    assert!(matches!(parse(&ok), Ok(Some(_))));
}

#[test]
fn protocol_errors_display_redis_texts_and_convert_to_err_replies() {
    assert_eq!(ProtocolError::InvalidMultibulkLength.to_string(), "Protocol error: invalid multibulk length");
    assert_eq!(ProtocolError::InvalidBulkLength.to_string(), "Protocol error: invalid bulk length");
    assert_eq!(ProtocolError::ExpectedBulk(b'x').to_string(), "Protocol error: expected '$', got 'x'");
    assert_eq!(ProtocolError::TooBigMultibulkCount.to_string(), "Protocol error: too big mbulk count string");
    assert_eq!(ProtocolError::TooBigBulkCount.to_string(), "Protocol error: too big bulk count string");
    assert_eq!(ProtocolError::TooBigInlineRequest.to_string(), "Protocol error: too big inline request");
    assert_eq!(ProtocolError::UnbalancedQuotes.to_string(), "Protocol error: unbalanced quotes in request");
    assert_eq!(
        ProtocolError::InvalidBulkLength.to_frame().to_bytes(Resp2),
        Bytes::from_static(b"-ERR Protocol error: invalid bulk length\r\n")
    );
}
