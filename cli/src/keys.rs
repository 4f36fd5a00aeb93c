//! Key administration commands: create-key, list-keys, list-aliases, describe-key,
//! rotate-key, enable-key, disable-key, schedule-key-deletion, cancel-key-deletion and
//! create-alias.

use keyplane::{CreateKey, PendingWindow, RotationPeriod};

use crate::args;
use crate::error::CliError;
use crate::output::Obj;
use crate::respond::{Cx, metadata, names, state};

pub(crate) fn create_key(cx: &Cx<'_>, a: args::CreateKeyArgs) -> Result<u8, CliError> {
    let mut options = CreateKey::new(a.key_spec);
    if let Some(usage) = a.key_usage {
        options = options.usage(usage);
    }
    if let Some(id) = a.key_id {
        options = options.key_id(id);
    }
    if let Some(alias) = a.alias {
        options = options.alias(alias);
    }
    if let Some(description) = a.description {
        options = options.description(description);
    }
    if let Some(days) = a.rotation_period_days {
        options = options.rotation_period(RotationPeriod::days(days)?);
    }
    if let Some(origin) = a.origin {
        options = options.origin(origin);
    }
    let meta = cx.ring.create_key(&options).map_err(|e| match e {
        keyplane::Error::InvalidInput("this key spec needs an explicit key usage") => CliError::op(
            e,
            "add --key-usage ENCRYPT_DECRYPT or --key-usage SIGN_VERIFY",
        ),
        keyplane::Error::InvalidKeyUsage => CliError::op(
            e,
            format!(
                "{} keys allow --key-usage {}",
                a.key_spec,
                names(a.key_spec.allowed_usages()).join(" or ")
            ),
        ),
        other => other.into(),
    })?;
    cx.out
        .print(&Obj::new().with("KeyMetadata", metadata(&meta)))
}

pub(crate) fn list_keys(cx: &Cx<'_>) -> Result<u8, CliError> {
    let keys: Vec<Obj> = cx
        .ring
        .list_keys()
        .into_iter()
        .map(|id| Obj::new().with("KeyId", id))
        .collect();
    cx.out.print(&Obj::new().with("Keys", keys))
}

pub(crate) fn list_aliases(cx: &Cx<'_>) -> Result<u8, CliError> {
    let aliases: Vec<Obj> = cx
        .ring
        .list_aliases()
        .into_iter()
        .map(|a| {
            Obj::new()
                .with("AliasName", a.alias_name)
                .with("TargetKeyId", a.target_key_id)
        })
        .collect();
    cx.out.print(&Obj::new().with("Aliases", aliases))
}

pub(crate) fn describe_key(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    let meta = cx.ring.describe_key(&a.key_id)?;
    cx.out
        .print(&Obj::new().with("KeyMetadata", metadata(&meta)))
}

pub(crate) fn rotate_key(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    let version = cx.ring.rotate_key(&a.key_id)?;
    let meta = cx.ring.describe_key(&a.key_id)?;
    cx.out.print(
        &Obj::new()
            .with("KeyId", meta.key_id)
            .with("CurrentKeyVersion", version),
    )
}

pub(crate) fn enable_key(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    cx.ring.enable_key(&a.key_id)?;
    state(cx, &a.key_id)
}

pub(crate) fn disable_key(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    cx.ring.disable_key(&a.key_id)?;
    state(cx, &a.key_id)
}

pub(crate) fn schedule_key_deletion(cx: &Cx<'_>, a: args::ScheduleArgs) -> Result<u8, CliError> {
    let window = PendingWindow::days(a.pending_window_days)?;
    let date = cx.ring.schedule_key_deletion(&a.key.key_id, window)?;
    let meta = cx.ring.describe_key(&a.key.key_id)?;
    cx.out.print(
        &Obj::new()
            .with("KeyId", meta.key_id)
            .with("DeletionDate", crate::time::format(date))
            .with("KeyState", meta.key_state.as_str())
            .with("PendingWindowInDays", a.pending_window_days),
    )
}

pub(crate) fn cancel_key_deletion(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    cx.ring.cancel_key_deletion(&a.key_id)?;
    state(cx, &a.key_id)
}

pub(crate) fn create_alias(cx: &Cx<'_>, a: args::CreateAliasArgs) -> Result<u8, CliError> {
    cx.ring.create_alias(&a.alias_name, &a.target_key_id)?;
    let meta = cx.ring.describe_key(&a.alias_name)?;
    cx.out.print(
        &Obj::new()
            .with("AliasName", a.alias_name)
            .with("TargetKeyId", meta.key_id),
    )
}
