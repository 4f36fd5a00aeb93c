//! Unit tests of the boundary: status numbers and codes, the last-error message, panics, the
//! output convention and overlap detection.

use super::*;

#[test]
fn statuses_are_the_core_numbers_and_codes() {
    let errors = [
        Error::NotFound,
        Error::AlreadyExists,
        Error::InvalidInput("x"),
        Error::InvalidKeyUsage,
        Error::KeyDisabled,
        Error::InvalidKeyState,
        Error::InvalidCiphertext,
        Error::BufferTooSmall { needed: 1 },
        Error::UnsupportedAlgorithm,
        Error::NotApproved(keyplane_core::fips::SECP256K1),
        Error::LimitExceeded("x"),
        Error::VersionRetired,
        Error::Storage("x"),
        Error::Internal,
    ];
    for e in errors {
        let s = kp_status::of(&e);
        assert_eq!(s as u32, e.number(), "{e:?}");
        assert_eq!(s.code().trim_end_matches('\0'), e.code(), "{e:?}");
    }
    // Every status but KP_OK and the three of the boundary comes from some core error
    // (`NotApproved` shares `UnsupportedAlgorithm`'s).
    let mut numbers: Vec<u32> = errors.iter().map(Error::number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len() + 4, kp_status::ALL.len());
}

#[test]
fn a_refusal_in_fips_mode_is_unsupported_algorithm_with_its_reason() {
    let error = Error::NotApproved(keyplane_core::fips::DIGEST_MESSAGE);
    let status = run(|| Err(error.into()));
    assert_eq!(status, kp_status::KP_ERR_UNSUPPORTED_ALGORITHM);
    // SAFETY: the pointer is this thread's NUL-terminated message buffer.
    let msg = unsafe { core::ffi::CStr::from_ptr(kp_last_error_message()) };
    let msg = msg.to_str().unwrap();
    assert!(msg.starts_with("not approved in FIPS mode: "), "{msg}");
    assert!(msg.contains("message type DIGEST"), "{msg}");
}

#[test]
fn last_error_is_truncated_and_terminated() {
    let long = "é".repeat(400);
    set_last_error(format_args!("{long}"));
    // SAFETY: the pointer is this thread's NUL-terminated message buffer.
    let msg = unsafe { core::ffi::CStr::from_ptr(kp_last_error_message()) };
    let msg = msg.to_str().expect("truncated at a character boundary");
    assert!(msg.len() < MESSAGE_CAP && msg.len() >= MESSAGE_CAP - 3);
    assert!(msg.chars().all(|c| c == 'é'));
}

#[test]
fn a_panic_becomes_a_status() {
    let status = run(|| panic!("boom"));
    assert_eq!(status, kp_status::KP_ERR_PANIC);
    // SAFETY: as above.
    let msg = unsafe { core::ffi::CStr::from_ptr(kp_last_error_message()) };
    assert!(msg.to_str().unwrap().contains("boom"));
}

#[test]
fn the_output_step_zeroes_the_buffer_on_every_failure() {
    let mut buf = [0xAAu8; 32];
    let mut len = 99usize;
    let (cap, l) = (buf.len(), &raw mut len);
    let p = buf.as_mut_ptr();
    // SAFETY: `buf` and `len` are live, writable and apart.
    let r = unsafe { output(p, cap, l, |_| Err(Failure::Null("keyring"))) };
    assert_eq!(r, Err(Failure::Null("keyring")));
    assert_eq!((buf, len), ([0; 32], 0));

    buf.fill(0xAA);
    let p = buf.as_mut_ptr();
    // SAFETY: as above.
    let r = unsafe {
        output(p, cap, l, |b| {
            b[0] = 1;
            Err(Error::BufferTooSmall { needed: 40 }.into())
        })
    };
    assert!(r.is_err());
    assert_eq!((buf, len), ([0; 32], 40));

    // A panic in the body: zeroed, then the panic goes on to the boundary.
    buf.fill(0xAA);
    let p = buf.as_mut_ptr();
    let status = run(|| {
        // SAFETY: as above.
        unsafe {
            output(p, cap, l, |b| {
                b[0] = 1;
                panic!("in the body")
            })
        }
    });
    assert_eq!(status, kp_status::KP_ERR_PANIC);
    assert_eq!(buf, [0; 32]);

    // A missing `out_len`: zeroed too.
    buf.fill(0xAA);
    let p = buf.as_mut_ptr();
    // SAFETY: as above.
    let r = unsafe { output(p, cap, core::ptr::null_mut(), |_| Ok(1)) };
    assert_eq!(r, Err(Failure::Null("out_len")));
    assert_eq!(buf, [0; 32]);
}

#[test]
fn overlap_is_detected() {
    let mut buf = [0u8; 16];
    let p = buf.as_mut_ptr();
    assert!(disjoint(p, 8, p.wrapping_add(4), 8).is_err());
    assert!(disjoint(p, 8, p.wrapping_add(8), 8).is_ok());
    assert!(disjoint(p.wrapping_add(8), 8, p, 8).is_ok());
}
