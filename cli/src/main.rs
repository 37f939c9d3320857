//! `edge-rules`: the edge's own rules parser and pipeline, on the command line.
//! Every command uses the `edge` crate's code (parsing, validation, phases),
//! not a copy, so what it says is what the Worker does.
//!
//! Exit codes: 0 ok, 1 invalid document, 2 usage or I/O error.

mod check;
mod diff;
mod evaluate;
mod explain;
mod history;
mod import_cmd;
mod kv;
mod load;
mod outcome;
mod push;
mod replay;
mod rollback;
mod rollout;
mod status;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use outcome::Outcome;

/// Check, explain, replay, diff and push the edge's rules documents; read the
/// edge's status, roll documents out gradually and roll them back; import nginx configs.
#[derive(Debug, Parser)]
#[command(name = "edge-rules", version, after_help = "Exit codes: 0 ok, 1 invalid document, 2 usage or I/O error.")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    Check(check::CheckArgs),
    Explain(explain::ExplainArgs),
    Replay(replay::ReplayArgs),
    Diff(diff::DiffArgs),
    Push(push::PushArgs),
    Status(status::StatusArgs),
    Rollout(rollout::RolloutArgs),
    History(history::HistoryArgs),
    Rollback(rollback::RollbackArgs),
    Import(import_cmd::ImportCmd),
    /// Print the JSON Schema of the rules document.
    Schema,
    /// Print a shell completion script (e.g. `edge-rules completions bash > /etc/bash_completion.d/edge-rules`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Cmd::Check(a) => check::run(a),
        Cmd::Explain(a) => explain::run(a),
        Cmd::Replay(a) => replay::run(a),
        Cmd::Diff(a) => diff::run(a),
        Cmd::Push(a) => push::run(a),
        Cmd::Status(a) => status::run(a),
        Cmd::Rollout(a) => rollout::run(a),
        Cmd::History(a) => history::run(a),
        Cmd::Rollback(a) => rollback::run(a),
        Cmd::Import(a) => import_cmd::run(a),
        Cmd::Schema => {
            print!("{}", edge::rules::schema::rules_schema_pretty());
            Outcome::Ok
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "edge-rules", &mut std::io::stdout());
            Outcome::Ok
        }
    };
    outcome.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
