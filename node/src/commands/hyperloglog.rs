//! The hyperloglog commands (being written).

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
