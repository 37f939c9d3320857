//! `example-origin [--addr HOST:PORT]`; see the library docs for the environment.

use example_origin::{router, Config};

#[tokio::main]
async fn main() {
    let config = match Config::from_env(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("example-origin: {e}");
            std::process::exit(2);
        }
    };
    if config.keys.is_empty() {
        eprintln!("example-origin: warning: EDGE_VERIFY_KEYS is empty; every signed route will answer 401");
    }
    let listener = match tokio::net::TcpListener::bind(&config.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("example-origin: cannot listen on {}: {e}", config.addr);
            std::process::exit(1);
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(config.addr.clone());
    println!("listening on {addr}");
    if let Err(e) = axum::serve(listener, router(config.name, config.keys)).await {
        eprintln!("example-origin: {e}");
        std::process::exit(1);
    }
}
