//! `edge-verify proxy --upstream URL | auth-request`; see `config.rs`.

use edge_verify::{router, Config, Gate};

#[tokio::main]
async fn main() {
    let config = match Config::parse(std::env::args().skip(1), std::env::var("EDGE_VERIFY_KEYS").ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("edge-verify: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("edge-verify: cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(config.listen.clone());
    let app = router(Gate::new(config.verifier, config.replay_capacity, config.debug), &config.mode);
    println!("edge-verify listening on {addr} ({:?})", config.mode);
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("edge-verify: {e}");
        std::process::exit(1);
    }
}
