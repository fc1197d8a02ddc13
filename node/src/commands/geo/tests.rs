//! Unit tests of the GEO commands through the command table, with values
//! from Redis's documentation and from the reference server. The
//! differential case file covers replies byte for byte; these pin the
//! arithmetic and what the case file cannot hold.

use bytes::Bytes;
use resp::Frame;

use super::super::testing::{array, bulk, err, int, TestKeyspace};
use super::geohash;

fn coord(text: &str) -> Frame {
    Frame::DoubleText(Bytes::copy_from_slice(text.as_bytes()))
}

fn sicily() -> TestKeyspace {
    let mut ks = TestKeyspace::new();
    assert_eq!(
        ks.exec(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]),
        int(2)
    );
    ks
}

#[test]
fn geoadd_stores_redis_scores() {
    let mut ks = sicily();
    assert_eq!(ks.exec(&["ZSCORE", "Sicily", "Palermo"]), Frame::DoubleText(Bytes::from_static(b"3479099956230698")));
    assert_eq!(ks.exec(&["ZSCORE", "Sicily", "Catania"]), Frame::DoubleText(Bytes::from_static(b"3479447370796909")));
    assert_eq!(ks.exec(&["GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo"]), int(0));
    assert_eq!(ks.exec(&["GEOADD", "Sicily", "NX", "XX", "1", "1", "x"]), err("ERR syntax error"));
    assert_eq!(
        ks.exec(&["GEOADD", "Sicily", "181", "10", "x"]),
        err("ERR invalid longitude,latitude pair 181.000000,10.000000")
    );
    assert_eq!(ks.exec(&["GEOADD", "Sicily", "1", "1", "x", "1", "2"]), err("ERR syntax error"));
}

#[test]
fn geodist_geohash_geopos_match_the_documentation() {
    let mut ks = sicily();
    assert_eq!(ks.exec(&["GEODIST", "Sicily", "Palermo", "Catania"]), bulk("166274.1516"));
    assert_eq!(ks.exec(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]), bulk("166.2742"));
    assert_eq!(ks.exec(&["GEODIST", "Sicily", "Palermo", "Catania", "MI"]), bulk("103.3182"));
    assert_eq!(ks.exec(&["GEODIST", "Sicily", "Palermo", "nope"]), Frame::Null);
    assert_eq!(
        ks.exec(&["GEODIST", "Sicily", "Palermo", "Catania", "yd"]),
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        ks.exec(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        array(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Frame::Null])
    );
    assert_eq!(
        ks.exec(&["GEOPOS", "Sicily", "Palermo", "nope"]),
        array(vec![array(vec![coord("13.36138933897018433"), coord("38.11555639549629859")]), Frame::NullArray])
    );
}

#[test]
fn searches_find_the_documented_members() {
    let mut ks = sicily();
    assert_eq!(
        ks.exec(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"]),
        array(vec![array(vec![bulk("Catania"), bulk("56.4413")]), array(vec![bulk("Palermo"), bulk("190.4424")])])
    );
    assert_eq!(
        ks.exec(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC", "COUNT", "1"]),
        array(vec![bulk("Palermo")])
    );
    assert_eq!(ks.exec(&["GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km"]), int(1));
    assert_eq!(ks.exec(&["ZRANGE", "dst", "0", "-1"]), array(vec![bulk("Palermo")]));
    assert_eq!(ks.exec(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "d2", "ASC"]), int(2));
    assert_eq!(ks.exec(&["ZSCORE", "d2", "Catania"]), Frame::DoubleText(Bytes::from_static(b"166.27415156960032")));
    // No results: the destination is deleted.
    assert_eq!(ks.exec(&["GEORADIUS", "Sicily", "0", "0", "1", "m", "STORE", "d2"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "d2"]), int(0));
    assert_eq!(ks.exec(&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"]), err("ERR syntax error"));
}

#[test]
fn distances_round_like_fixedpoint_d2string() {
    assert_eq!(geohash::format_distance(0.0), "0.0000");
    assert_eq!(geohash::format_distance(1.23456), "1.2346");
    assert_eq!(geohash::format_distance(166_274.151_569_600_4), "166274.1516");
    // llrint rounds half to even.
    // Exact ties (1/32 m is 312.5 ten-thousandths) go to even.
    assert_eq!(geohash::format_distance(1.0 / 32.0), "0.0312");
    assert_eq!(geohash::format_distance(3.0 / 32.0), "0.0938");
}

#[test]
fn along_a_meridian_the_distance_is_the_latitude_arc() {
    // Redis 7.2 computes R * |dlat| when the longitudes are equal.
    let d = geohash::distance(10.0, 20.0, 10.0, 30.0);
    let expected = 6372797.560856 * ((30.0 * (std::f64::consts::PI / 180.0)) - (20.0 * (std::f64::consts::PI / 180.0)));
    assert_eq!(d, expected);
}

#[test]
fn odd_scores_decode_without_panicking() {
    let mut ks = TestKeyspace::new();
    for score in ["-1", "1e300", "inf", "-inf", "0.5", "4503599627370496"] {
        ks.exec(&["ZADD", "z", score, score]);
        let Frame::Array(items) = ks.exec(&["GEOPOS", "z", score]) else { panic!() };
        assert_eq!(items.len(), 1);
        let Frame::Array(hash) = ks.exec(&["GEOHASH", "z", score]) else { panic!() };
        assert_eq!(hash.len(), 1);
    }
    let Frame::Array(all) = ks.exec(&["GEOSEARCH", "z", "FROMLONLAT", "0", "0", "BYRADIUS", "50000", "km", "WITHHASH"])
    else {
        panic!()
    };
    assert!(!all.is_empty());
}
