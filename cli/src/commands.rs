//! The dispatch: which command runs, and with what (the home opened, or not yet for `init`,
//! `bench`, `version` and `audit verify`); `init`, which makes the home; and `version`.

use std::io::Write as _;

use crate::args::{self, Command};
use crate::error::{CliError, EXIT_OK};
use crate::home::{self, Home, RootSource};
use crate::output::{Format, Obj};
use crate::respond::{Cx, Out};
use crate::{audit, encryption, keys, signing, transfer};

/// Runs `command` and returns the exit code.
pub(crate) fn run(command: Command, format: Option<Format>) -> Result<u8, CliError> {
    if matches!(format, Some(Format::Pem | Format::Der))
        && !matches!(command, Command::GetPublicKey(_))
    {
        return Err(CliError::Usage(
            "--output pem and --output der apply only to get-public-key; use json or text".into(),
        ));
    }
    if let Command::Bench(a) = &command {
        return crate::bench::run(a, format.unwrap_or(Format::Text));
    }
    if let Command::Version = command {
        return version(format.unwrap_or(Format::Text));
    }
    let out = Out {
        format: format.unwrap_or(Format::Json),
    };
    if let Command::Audit(args::AuditCommand::Verify(a)) = command {
        return audit::audit_verify(&out, a);
    }
    let home = Home::locate()?;
    if let Command::Init = command {
        return init(&home, &out);
    }
    let (ring, root) = home.open()?;
    let cx = Cx {
        ring: &ring,
        root: &root,
        out: &out,
    };
    match command {
        Command::Init | Command::Bench(_) | Command::Version | Command::Audit(_) => Ok(EXIT_OK),
        Command::CreateKey(a) => keys::create_key(&cx, a),
        Command::ListKeys => keys::list_keys(&cx),
        Command::ListAliases => keys::list_aliases(&cx),
        Command::DescribeKey(a) => keys::describe_key(&cx, a),
        Command::RotateKey(a) => keys::rotate_key(&cx, a),
        Command::EnableKey(a) => keys::enable_key(&cx, a),
        Command::DisableKey(a) => keys::disable_key(&cx, a),
        Command::ScheduleKeyDeletion(a) => keys::schedule_key_deletion(&cx, a),
        Command::CancelKeyDeletion(a) => keys::cancel_key_deletion(&cx, a),
        Command::CreateAlias(a) => keys::create_alias(&cx, a),
        Command::Encrypt(a) => encryption::encrypt(&cx, a),
        Command::Decrypt(a) => encryption::decrypt(&cx, a),
        Command::ReEncrypt(a) => encryption::re_encrypt(&cx, a),
        Command::GenerateDataKey(a) => encryption::generate_data_key(&cx, a),
        Command::GenerateDataKeyPair(a) => encryption::generate_data_key_pair(&cx, a),
        Command::Sign(a) => signing::sign(&cx, a),
        Command::Verify(a) => signing::verify(&cx, a),
        Command::GenerateMac(a) => signing::generate_mac(&cx, a),
        Command::VerifyMac(a) => signing::verify_mac(&cx, a),
        Command::GetPublicKey(a) => signing::get_public_key(&cx, a),
        Command::ExportKey(a) => transfer::export_key(&cx, a),
        Command::ImportKey(a) => transfer::import_key(&cx, a),
        Command::GetParametersForImport(a) => transfer::get_parameters_for_import(&cx, a),
        Command::ImportKeyMaterial(a) => transfer::import_key_material(&cx, a),
        Command::DeleteImportedKeyMaterial(a) => transfer::delete_imported_key_material(&cx, a),
    }
}

fn init(home: &Home, out: &Out) -> Result<u8, CliError> {
    let source = home.init()?;
    let root_key = match &source {
        RootSource::File(path) => path.display().to_string(),
        RootSource::Env => home::ROOT_KEY_VAR.to_owned(),
    };
    if matches!(source, RootSource::File(_)) {
        eprintln!(
            "keyplane: created a new root key in {root_key}: every key in this home is sealed \
             under it; back it up somewhere safe, apart from the store"
        );
    }
    out.print(
        &Obj::new()
            .with("KeyplaneHome", home.dir.display().to_string())
            .with("Store", home.store_path().display().to_string())
            .with("RootKey", root_key),
    )
}

/// `keyplane version`: this tool's version, and what `keyplane::fips::status()` says of the
/// module it runs on.
fn version(format: Format) -> Result<u8, CliError> {
    let status = keyplane::fips::status();
    let version = env!("CARGO_PKG_VERSION");
    if format == Format::Text {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let text = format!(
            "keyplane {version}\nmodule: {} {}\nfips build: {}\nfips mode: {}\n",
            status.module,
            status.module_version,
            yes(status.fips_build),
            yes(status.fips_mode)
        );
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::Io(format!("cannot write standard output: {e}")))?;
        return Ok(EXIT_OK);
    }
    Out { format }.print(
        &Obj::new()
            .with("Version", version)
            .with("Module", status.module)
            .with("ModuleVersion", status.module_version)
            .with("FipsBuild", status.fips_build)
            .with("FipsMode", status.fips_mode)
            .with("FipsBranch", status.fips_branch),
    )
}
