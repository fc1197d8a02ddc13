use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;

fn info(id: u64) -> ClientInfo {
    let now = Instant::now();
    ClientInfo {
        id,
        addr: format!("127.0.0.1:{}", 50000 + id),
        laddr: "127.0.0.1:6379".into(),
        name: None,
        db: 0,
        resp: 2,
        connected_at: now,
        last_command_at: now,
        last_command: "client|info".into(),
        multi: -1,
        readonly: false,
        lib_name: None,
        lib_ver: None,
    }
}

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
}

#[test]
fn info_line_has_redis_7_2_fields_in_order() {
    let mut client = info(7);
    client.name = Some("worker".into());
    client.lib_name = Some("redis-py".into());
    client.lib_ver = Some("5.0.1".into());
    let now = client.connected_at + Duration::from_secs(5);
    client.last_command_at = client.connected_at + Duration::from_secs(3);
    assert_eq!(
        info_line(&client, ExtraFlags::default(), now),
        "id=7 addr=127.0.0.1:50007 laddr=127.0.0.1:6379 fd=-1 name=worker age=5 idle=2 flags=N db=0 sub=0 psub=0 \
         ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 \
         events=r cmd=client|info user=default redir=-1 resp=2 lib-name=redis-py lib-ver=5.0.1"
    );
}

#[test]
fn flags_follow_redis_letter_order() {
    let mut client = info(1);
    assert_eq!(flag_letters(&client, ExtraFlags::default()), "N");
    client.multi = 0;
    client.readonly = true;
    let extra = ExtraFlags { no_evict: true, no_touch: true, closing: true };
    assert_eq!(flag_letters(&client, extra), "xAreT");
}

#[test]
fn names_and_attributes_must_be_printable_without_spaces() {
    assert!(validate_name(b"ok-name").is_ok());
    assert!(validate_name(b"").is_ok());
    assert!(validate_name(b"has space").is_err());
    assert!(validate_name(b"new\nline").is_err());
    assert!(!printable("é".as_bytes()));
}

#[test]
fn kill_filters_parse_like_redis() {
    let parse = |list: &[&str]| KillFilter::parse(&args(list));
    let f = parse(&["id", "5", "skipme", "no"]).unwrap();
    assert_eq!(f.id, Some(5));
    assert!(!f.skip_me);
    assert!(parse(&["addr", "1.2.3.4:5"]).unwrap().skip_me);
    assert_eq!(parse(&["id", "x"]).unwrap_err().to_string(), "ERR client-id should be greater than 0");
    assert_eq!(parse(&["id", "0"]).unwrap_err().to_string(), "ERR client-id should be greater than 0");
    assert_eq!(parse(&["type", "foo"]).unwrap_err().to_string(), "ERR Unknown client type 'foo'");
    assert_eq!(parse(&["user", "bob"]).unwrap_err().to_string(), "ERR No such user 'bob'");
    assert_eq!(parse(&["skipme", "maybe"]).unwrap_err(), CommandError::Syntax);
    assert_eq!(parse(&["foo", "bar"]).unwrap_err(), CommandError::Syntax);
    assert_eq!(parse(&["id", "1", "addr"]).unwrap_err(), CommandError::Syntax);
    assert!(parse(&["type", "pubsub"]).unwrap().no_such_type);
    assert!(parse(&["user", "default", "type", "NORMAL"]).is_ok());
}

#[test]
fn kill_filters_combine_with_and_and_skip_the_caller() {
    let a = info(1);
    let b = info(2);
    let by_addr = KillFilter::parse(&args(&["addr", &b.addr])).unwrap();
    assert!(by_addr.matches(&b, 1));
    assert!(!by_addr.matches(&a, 1));
    let me = KillFilter::parse(&args(&["id", "1"])).unwrap();
    assert!(!me.matches(&a, 1), "SKIPME defaults to yes");
    let me = KillFilter::parse(&args(&["id", "1", "skipme", "no"])).unwrap();
    assert!(me.matches(&a, 1));
    let both = KillFilter::parse(&args(&["id", "2", "laddr", "10.0.0.1:1"])).unwrap();
    assert!(!both.matches(&b, 1));
    let pubsub = KillFilter::parse(&args(&["type", "pubsub"])).unwrap();
    assert!(!pubsub.matches(&b, 1));
}

#[test]
fn reply_modes_drop_the_right_replies() {
    let control = ClientControl::default();
    // Nobody filtered: every reply goes out.
    assert!(control.reply_wanted(1));
    // CLIENT REPLY OFF drops its own reply and the following ones.
    control.update(1, |m| m.reply = ReplyMode::Off);
    assert!(!control.reply_wanted(1));
    assert!(!control.reply_wanted(1));
    assert!(control.reply_wanted(2), "other connections are not affected");
    // CLIENT REPLY ON is answered.
    control.update(1, |m| m.reply = ReplyMode::On);
    assert!(control.reply_wanted(1));
    // CLIENT REPLY SKIP drops its own reply and the next command's only.
    control.update(1, |m| m.reply = ReplyMode::SkipArmed);
    assert!(!control.reply_wanted(1));
    assert!(!control.reply_wanted(1));
    assert!(control.reply_wanted(1));
    assert_eq!(control.filtered.load(Ordering::Relaxed), 0);
}

#[test]
fn forgetting_a_connection_clears_its_state() {
    let control = ClientControl::default();
    control.update(3, |m| m.reply = ReplyMode::Off);
    control.request_kill(3);
    assert!(control.kill_requested(3));
    assert!(!control.kill_requested(4));
    control.forget(3);
    assert!(!control.kill_requested(3));
    assert_eq!(control.filtered.load(Ordering::Relaxed), 0);
    assert_eq!(control.pending_kills.load(Ordering::Relaxed), 0);
    assert!(control.reply_wanted(3));
}

#[tokio::test]
async fn killed_wakes_the_waiting_connection() {
    let control = std::sync::Arc::new(ClientControl::default());
    let waiter = {
        let control = control.clone();
        tokio::spawn(async move { control.killed(9).await })
    };
    tokio::task::yield_now().await;
    control.request_kill(8);
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "another id does not wake it for good");
    control.request_kill(9);
    tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").expect("no panic");
}
