//! CLIENT subcommands, and [`ClientControl`]: the node-wide state they
//! share with the connection loop (kill requests, per-connection modes).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;
use resp::Frame;

use super::introspection::{help_reply, is, lossy, subcommand, text_reply, unknown_subcommand};
use crate::commands::args::parse_i64;
use crate::dispatch::Conn;
use crate::error::CommandError;
use crate::node::ClientInfo;

const HELP: &[&str] = &[
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
];

/// Connection names may not contain spaces, newlines or special characters.
///
/// # Errors
/// Redis's error text.
pub fn validate_name(name: &[u8]) -> Result<(), CommandError> {
    if !printable(name) {
        return Err(CommandError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// Redis's `validateClientAttr`: printable ASCII without spaces.
fn printable(value: &[u8]) -> bool {
    value.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// What CLIENT REPLY set for a connection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// CLIENT REPLY SKIP just ran: its own reply is dropped...
    SkipArmed,
    /// ...and then the next command's.
    Skipping,
}

#[derive(Debug, Default, Clone, Copy)]
struct Modes {
    no_evict: bool,
    no_touch: bool,
    reply: ReplyMode,
}

/// Node-wide state of the CLIENT commands that the connection loop must
/// honour. Per-connection entries are keyed by client id and dropped by
/// [`ClientControl::forget`] when the connection ends.
#[derive(Default)]
pub struct ClientControl {
    killed: Mutex<HashSet<u64>>,
    /// Kill requests not yet forgotten: lets connections skip the lock.
    pending_kills: AtomicUsize,
    kill_notify: tokio::sync::Notify,
    modes: Mutex<HashMap<u64, Modes>>,
    /// Connections whose reply mode is not ON: lets the reply path skip the
    /// lock in the common case.
    filtered: AtomicUsize,
}

impl ClientControl {
    /// Asks the connection `id` to close (CLIENT KILL).
    pub fn request_kill(&self, id: u64) {
        let inserted = self.killed.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
        if inserted {
            self.pending_kills.fetch_add(1, Ordering::AcqRel);
        }
        self.kill_notify.notify_waiters();
    }

    /// Whether CLIENT KILL asked the connection `id` to close.
    pub fn kill_requested(&self, id: u64) -> bool {
        self.pending_kills.load(Ordering::Acquire) > 0
            && self.killed.lock().unwrap_or_else(|p| p.into_inner()).contains(&id)
    }

    /// Resolves once CLIENT KILL asks the connection `id` to close; for a
    /// `select!` next to the socket read (cancel-safe).
    pub async fn killed(&self, id: u64) {
        loop {
            let notified = self.kill_notify.notified();
            tokio::pin!(notified);
            // Registered before checking, so a kill between the check and
            // the await still wakes us.
            notified.as_mut().enable();
            if self.kill_requested(id) {
                return;
            }
            notified.await;
        }
    }

    /// Drops everything kept for the connection `id`; call when it ends.
    pub fn forget(&self, id: u64) {
        if self.killed.lock().unwrap_or_else(|p| p.into_inner()).remove(&id) {
            self.pending_kills.fetch_sub(1, Ordering::AcqRel);
        }
        let mut modes = self.modes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = modes.remove(&id) {
            if old.reply != ReplyMode::On {
                self.filtered.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    fn modes(&self, id: u64) -> Modes {
        self.modes.lock().unwrap_or_else(|p| p.into_inner()).get(&id).copied().unwrap_or_default()
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut Modes)) {
        let mut modes = self.modes.lock().unwrap_or_else(|p| p.into_inner());
        let entry = modes.entry(id).or_default();
        let was_on = entry.reply == ReplyMode::On;
        change(entry);
        let is_on = entry.reply == ReplyMode::On;
        if was_on && !is_on {
            self.filtered.fetch_add(1, Ordering::AcqRel);
        } else if !was_on && is_on {
            self.filtered.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Whether the next reply of connection `id` is sent. Call once per
    /// reply, in request order, after the request ran: CLIENT REPLY OFF and
    /// SKIP drop their own reply, SKIP also the next one.
    pub fn reply_wanted(&self, id: u64) -> bool {
        if self.filtered.load(Ordering::Acquire) == 0 {
            return true;
        }
        let mut modes = self.modes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = modes.get_mut(&id) else { return true };
        let wanted = entry.reply == ReplyMode::On;
        entry.reply = match entry.reply {
            ReplyMode::SkipArmed => ReplyMode::Skipping,
            ReplyMode::Skipping => {
                self.filtered.fetch_sub(1, Ordering::AcqRel);
                ReplyMode::On
            }
            other => other,
        };
        wanted
    }
}

pub fn run(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let sub = subcommand(conn, args)?;
    let id = conn.id;
    match sub.name {
        "id" => Ok(Frame::Integer(id as i64)),
        "getname" => Ok(registry_get(conn, id).and_then(|info| info.name).map(Frame::bulk).unwrap_or(Frame::Null)),
        "setname" => {
            validate_name(&args[2])?;
            let name = (!args[2].is_empty()).then(|| lossy(&args[2]));
            conn.update_info(|info| info.name = name);
            Ok(Frame::ok())
        }
        "setinfo" => setinfo(conn, &args[2], &args[3]),
        "info" => {
            let info =
                registry_get(conn, id).ok_or_else(|| CommandError::err("the client registry lost this connection"))?;
            let modes = conn.node.client_control.modes(id);
            Ok(text_reply(format!("{}\n", info_line(&info, modes_flags(&conn.node, id, modes), Instant::now()))))
        }
        "list" => list(conn, &args[2..]),
        "kill" => kill(conn, &args[2..]),
        "no-evict" => {
            let on = on_off(&args[2])?;
            conn.node.client_control.update(id, |m| m.no_evict = on);
            Ok(Frame::ok())
        }
        "no-touch" => {
            let on = on_off(&args[2])?;
            conn.node.client_control.update(id, |m| m.no_touch = on);
            Ok(Frame::ok())
        }
        "reply" => {
            let mode = if is(&args[2], "on") {
                ReplyMode::On
            } else if is(&args[2], "off") {
                ReplyMode::Off
            } else if is(&args[2], "skip") {
                ReplyMode::SkipArmed
            } else {
                return Err(CommandError::Syntax);
            };
            conn.node.client_control.update(id, |m| {
                // SKIP does nothing while replies are OFF, as in Redis.
                if !(mode == ReplyMode::SkipArmed && m.reply == ReplyMode::Off) {
                    m.reply = mode;
                }
            });
            Ok(Frame::ok())
        }
        "help" => Ok(help_reply(&args[0], HELP)),
        _ => Err(unknown_subcommand(&args[0], &args[1])),
    }
}

fn registry_get(conn: &Conn, id: u64) -> Option<ClientInfo> {
    conn.node.clients.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned()
}

fn on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value`; an empty value clears it.
fn setinfo(conn: &Conn, attr: &[u8], value: &[u8]) -> Result<Frame, CommandError> {
    let is_name = is(attr, "lib-name");
    if !is_name && !is(attr, "lib-ver") {
        return Err(CommandError::err(format!("Unrecognized option '{}'", lossy(attr))));
    }
    if !printable(value) {
        return Err(CommandError::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            lossy(attr)
        )));
    }
    let value = (!value.is_empty()).then(|| lossy(value));
    conn.update_info(|info| {
        if is_name {
            info.lib_name = value;
        } else {
            info.lib_ver = value;
        }
    });
    Ok(Frame::ok())
}

/// What the `flags=` field needs beyond [`ClientInfo`].
#[derive(Debug, Default, Clone, Copy)]
pub struct ExtraFlags {
    pub no_evict: bool,
    pub no_touch: bool,
    pub closing: bool,
}

fn modes_flags(node: &crate::node::Node, id: u64, modes: Modes) -> ExtraFlags {
    ExtraFlags { no_evict: modes.no_evict, no_touch: modes.no_touch, closing: node.client_control.kill_requested(id) }
}

/// The `flags=` letters in Redis's order (`catClientInfoString`); N when none.
pub fn flag_letters(info: &ClientInfo, extra: ExtraFlags) -> String {
    let mut out = String::new();
    if info.multi >= 0 {
        out.push('x');
    }
    if extra.closing {
        out.push('A');
    }
    if info.readonly {
        out.push('r');
    }
    if extra.no_evict {
        out.push('e');
    }
    if extra.no_touch {
        out.push('T');
    }
    if out.is_empty() {
        out.push('N');
    }
    out
}

/// One CLIENT LIST/INFO line (without the newline), field for field as
/// Redis 7.2's `catClientInfoString`. Redraft does not track the file
/// descriptor (`fd=-1`, as Redis shows for clients without one) nor buffer
/// sizes (zeros).
pub fn info_line(info: &ClientInfo, extra: ExtraFlags, now: Instant) -> String {
    let age = now.saturating_duration_since(info.connected_at).as_secs();
    let idle = now.saturating_duration_since(info.last_command_at).as_secs();
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={age} idle={idle} flags={} db={} sub=0 psub=0 ssub=0 multi={} \
         qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} \
         user=default redir=-1 resp={} lib-name={} lib-ver={}",
        info.id,
        info.addr,
        info.laddr,
        info.name.as_deref().unwrap_or(""),
        flag_letters(info, extra),
        info.db,
        info.multi,
        info.last_command,
        info.resp,
        info.lib_name.as_deref().unwrap_or(""),
        info.lib_ver.as_deref().unwrap_or(""),
    )
}

/// Client types CLIENT LIST/KILL TYPE accept. Every Redraft connection is
/// a normal client: replication is Raft's, and there is no pub/sub yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Other,
}

fn client_type(name: &[u8]) -> Result<ClientType, CommandError> {
    if is(name, "normal") {
        Ok(ClientType::Normal)
    } else if ["slave", "replica", "master", "pubsub"].iter().any(|t| is(name, t)) {
        Ok(ClientType::Other)
    } else {
        Err(CommandError::err(format!("Unknown client type '{}'", lossy(name))))
    }
}

fn snapshot(conn: &Conn) -> Vec<ClientInfo> {
    conn.node.clients.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
}

fn lines(conn: &Conn, infos: impl IntoIterator<Item = ClientInfo>) -> String {
    let now = Instant::now();
    let control = &conn.node.client_control;
    let mut out = String::new();
    for info in infos {
        let flags = modes_flags(&conn.node, info.id, control.modes(info.id));
        out.push_str(&info_line(&info, flags, now));
        out.push('\n');
    }
    out
}

/// `CLIENT LIST [TYPE type | ID id...]`.
fn list(conn: &Conn, opts: &[Bytes]) -> Result<Frame, CommandError> {
    let infos = match opts {
        [] => snapshot(conn),
        [kind, name] if is(kind, "type") => match client_type(name)? {
            ClientType::Normal => snapshot(conn),
            ClientType::Other => Vec::new(),
        },
        [kind, ids @ ..] if is(kind, "id") && !ids.is_empty() => {
            let ids = ids
                .iter()
                .map(|id| parse_i64(id).ok_or_else(|| CommandError::err("Invalid client ID")))
                .collect::<Result<Vec<_>, _>>()?;
            let registry = conn.node.clients.lock().unwrap_or_else(|p| p.into_inner());
            // In the order asked, repeats included, like Redis.
            ids.iter().filter_map(|&id| u64::try_from(id).ok().and_then(|id| registry.get(&id).cloned())).collect()
        }
        _ => return Err(CommandError::Syntax),
    };
    Ok(text_reply(lines(conn, infos)))
}

/// The filters of `CLIENT KILL <option> <value> ...`; all must match.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub addr: Option<String>,
    pub laddr: Option<String>,
    /// TYPE named a kind of client Redraft never has.
    pub no_such_type: bool,
    pub skip_me: bool,
}

impl KillFilter {
    /// Parses the option pairs (after `CLIENT KILL`).
    ///
    /// # Errors
    /// Redis's errors: syntax, bad id, unknown type, unknown user.
    pub fn parse(opts: &[Bytes]) -> Result<Self, CommandError> {
        let mut filter = KillFilter { skip_me: true, ..KillFilter::default() };
        if !opts.len().is_multiple_of(2) {
            return Err(CommandError::Syntax);
        }
        for pair in opts.chunks(2) {
            let (option, value) = (&pair[0], &pair[1]);
            if is(option, "id") {
                let id = parse_i64(value)
                    .filter(|&id| id > 0)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?;
                filter.id = Some(id as u64);
            } else if is(option, "type") {
                filter.no_such_type = client_type(value)? == ClientType::Other;
            } else if is(option, "addr") {
                filter.addr = Some(lossy(value));
            } else if is(option, "laddr") {
                filter.laddr = Some(lossy(value));
            } else if is(option, "user") {
                if value.as_ref() != b"default" {
                    return Err(CommandError::err(format!("No such user '{}'", lossy(value))));
                }
            } else if is(option, "skipme") {
                filter.skip_me = if is(value, "yes") {
                    true
                } else if is(value, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                };
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(filter)
    }

    pub fn matches(&self, info: &ClientInfo, me: u64) -> bool {
        !self.no_such_type
            && (!self.skip_me || info.id != me)
            && self.id.is_none_or(|id| id == info.id)
            && self.addr.as_ref().is_none_or(|a| *a == info.addr)
            && self.laddr.as_ref().is_none_or(|a| *a == info.laddr)
    }
}

/// `CLIENT KILL addr` (old form: OK or an error) or `CLIENT KILL <option>
/// <value> ...` (the number of connections killed).
fn kill(conn: &mut Conn, opts: &[Bytes]) -> Result<Frame, CommandError> {
    let me = conn.id;
    let old_form = opts.len() == 1;
    let filter = if old_form {
        // The old form kills the caller too.
        KillFilter { addr: Some(lossy(&opts[0])), skip_me: false, ..KillFilter::default() }
    } else {
        KillFilter::parse(opts)?
    };
    let victims: Vec<u64> = {
        // Requested under the registry lock: a connection that unregisters
        // concurrently either is not found here or is registered until after
        // the request, and then `forget` removes it.
        let registry = conn.node.clients.lock().unwrap_or_else(|p| p.into_inner());
        let victims: Vec<u64> = registry.values().filter(|info| filter.matches(info, me)).map(|info| info.id).collect();
        for &id in victims.iter().filter(|&&id| id != me) {
            conn.node.client_control.request_kill(id);
        }
        victims
    };
    if victims.contains(&me) {
        // Closed after this reply is written, like Redis's CLOSE_AFTER_REPLY.
        conn.closing = true;
    }
    if old_form {
        if victims.is_empty() {
            return Err(CommandError::err("No such client"));
        }
        return Ok(Frame::ok());
    }
    Ok(Frame::Integer(victims.len() as i64))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
