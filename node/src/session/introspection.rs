//! COMMAND and CONFIG, and what every container command (CLIENT, CLUSTER,
//! COMMAND, CONFIG) shares: subcommand lookup with Redis's errors, HELP
//! replies and text replies.
//!
//! # Layout
//! - this file: the shared helpers and the two entry points.
//! - [`command`]: COMMAND (INFO, DOCS, LIST, COUNT, GETKEYS), built from the
//!   command table.
//! - [`config`]: CONFIG GET/SET/RESETSTAT over a static parameter table.

pub mod command;
pub mod config;

use bytes::Bytes;
use resp::Frame;

use crate::commands::{self, CommandSpec};
use crate::dispatch::Conn;
use crate::error::CommandError;

pub fn command(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    command::run(conn, args)
}

pub fn config(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    config::run(conn, args)
}

/// The subcommand `args[1]` of the container `args[0]`, with its arity
/// checked, as Redis does before running it. Also records the full name
/// (`client|list`) as the connection's last command, which is what CLIENT
/// LIST shows in `cmd=`.
///
/// # Errors
/// `unknown subcommand` or `wrong number of arguments for 'client|setname'`.
pub fn subcommand(conn: &Conn, args: &[Bytes]) -> Result<&'static CommandSpec, CommandError> {
    let container = commands::lookup(&args[0]).ok_or_else(|| crate::error::unknown_command(args))?;
    let name = args.get(1).ok_or_else(|| CommandError::WrongArity(container.name.to_string()))?;
    let Some(sub) = container.subcommand(name) else {
        return Err(unknown_subcommand(&args[0], name));
    };
    let full = format!("{}|{}", container.name, sub.name);
    if !sub.arity_ok(args.len()) {
        return Err(CommandError::WrongArity(full));
    }
    conn.update_info(|info| info.last_command = full);
    Ok(sub)
}

/// `unknown subcommand 'x'. Try CLIENT HELP.`: the subcommand as typed (cut
/// at 128 bytes, like Redis's `%.128s`), the container as typed, upper-cased.
pub fn unknown_subcommand(container: &[u8], sub: &[u8]) -> CommandError {
    let shown = &sub[..sub.len().min(128)];
    CommandError::UnknownSubcommand {
        command: String::from_utf8_lossy(container).to_ascii_uppercase(),
        sub: String::from_utf8_lossy(shown).into_owned(),
    }
}

/// A HELP reply the way Redis's `addReplyHelp` builds it: a header naming
/// the container as typed (upper-cased), the lines, then HELP itself; all
/// status strings.
pub fn help_reply(container: &[u8], lines: &[&str]) -> Frame {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Frame::simple(format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        String::from_utf8_lossy(container).to_ascii_uppercase()
    )));
    out.extend(lines.iter().map(|line| Frame::simple(line.to_string())));
    out.push(Frame::simple("HELP"));
    out.push(Frame::simple("    Prints this help."));
    Frame::Array(out)
}

/// A multi-line text reply (INFO, CLIENT LIST, CLUSTER NODES): verbatim
/// `txt` in RESP3, a bulk string in RESP2 (the encoder downgrades it).
pub fn text_reply(text: String) -> Frame {
    Frame::Verbatim { format: *b"txt", text: Bytes::from(text) }
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], option: &str) -> bool {
    arg.eq_ignore_ascii_case(option.as_bytes())
}

/// An argument as text for error messages and stored names.
pub fn lossy(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

#[cfg(test)]
#[path = "introspection_tests.rs"]
mod tests;
