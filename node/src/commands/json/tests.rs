use crate::commands::testing::TestKeyspace;
