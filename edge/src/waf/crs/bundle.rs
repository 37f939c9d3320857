//! The CRS files shipped inside the worker: no filesystem at the edge, so the
//! rule files and the word lists their `@pmFromFile` rules read are compiled
//! in. They are the files of `edge/crs/` (byte for byte as published, see its
//! `SOURCE.md`) without comment and blank lines (`edge/build.rs`).

/// `(name, text)` of a file `edge/build.rs` wrote into `OUT_DIR/crs/`.
macro_rules! shipped {
    ($name:literal) => {
        ($name, include_str!(concat!(env!("OUT_DIR"), "/crs/", $name)))
    };
}

/// `crs-setup.conf.example`: the `SecDefaultAction`s and the setup version.
pub const SETUP: &str = shipped!("crs-setup.conf.example").1;

/// Request-phase rule files, in the order CRS loads them.
pub const RULES: &[(&str, &str)] = &[
    shipped!("REQUEST-901-INITIALIZATION.conf"),
    shipped!("REQUEST-905-COMMON-EXCEPTIONS.conf"),
    shipped!("REQUEST-911-METHOD-ENFORCEMENT.conf"),
    shipped!("REQUEST-913-SCANNER-DETECTION.conf"),
    shipped!("REQUEST-920-PROTOCOL-ENFORCEMENT.conf"),
    shipped!("REQUEST-921-PROTOCOL-ATTACK.conf"),
    shipped!("REQUEST-922-MULTIPART-ATTACK.conf"),
    shipped!("REQUEST-930-APPLICATION-ATTACK-LFI.conf"),
    shipped!("REQUEST-931-APPLICATION-ATTACK-RFI.conf"),
    shipped!("REQUEST-932-APPLICATION-ATTACK-RCE.conf"),
    shipped!("REQUEST-933-APPLICATION-ATTACK-PHP.conf"),
    shipped!("REQUEST-934-APPLICATION-ATTACK-GENERIC.conf"),
    shipped!("REQUEST-941-APPLICATION-ATTACK-XSS.conf"),
    shipped!("REQUEST-942-APPLICATION-ATTACK-SQLI.conf"),
    shipped!("REQUEST-943-APPLICATION-ATTACK-SESSION-FIXATION.conf"),
    shipped!("REQUEST-944-APPLICATION-ATTACK-JAVA.conf"),
    shipped!("REQUEST-949-BLOCKING-EVALUATION.conf"),
    shipped!("REQUEST-999-COMMON-EXCEPTIONS-AFTER.conf"),
];

/// Word lists named by `@pmFromFile` in the request-phase rules.
pub const DATA: &[(&str, &str)] = &[
    shipped!("ai-critical-artifacts.data"),
    shipped!("java-classes.data"),
    shipped!("lfi-os-files.data"),
    shipped!("php-function-names-933150.data"),
    shipped!("php-variables.data"),
    shipped!("restricted-files.data"),
    shipped!("restricted-upload.data"),
    shipped!("scanners-user-agents.data"),
    shipped!("ssrf-no-scheme.data"),
    shipped!("ssrf.data"),
    shipped!("unix-shell.data"),
    shipped!("windows-powershell-commands.data"),
];

/// The word list `name`, if it ships.
pub fn data(name: &str) -> Option<&'static str> {
    DATA.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}
