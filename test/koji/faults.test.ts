import { describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import { isKojiFault, KojiFault, kojiFaultName } from "../../src/koji/faults.js";

describe("Koji faults", () => {
  it.each([
    [1000, "GenericError", false],
    [1001, "LockError", true],
    [1002, "AuthError", false],
    [1004, "ActionNotAllowed", false],
    [1006, "AuthLockError", true],
    [1007, "AuthExpired", true],
    [1008, "SequenceError", true],
    [1009, "RetryError", true],
    [1014, "ServerOffline", true],
    [1019, "ParameterError", false],
    [1003, "TagError", false],
    [4242, "Fault4242", false],
  ])("fault %i is %s, retryable=%s", (code, name, retryable) => {
    const fault = new KojiFault(code, "text", "CGImport");
    expect(fault).toBeInstanceOf(ImporterError);
    expect(fault.code).toBe("KOJI_FAULT");
    expect(fault.retryable).toBe(retryable);
    expect(fault.details).toMatchObject({ faultCode: code, faultName: name, method: "CGImport" });
    expect(fault.message).toContain("text");
    expect(kojiFaultName(code)).toBe(name);
  });

  it("fault 1: our metadata's mistakes are permanent, the hub's database trouble is not", () => {
    expect(new KojiFault(1, "<class 'KeyError'>: 'source'", "CGImport").retryable).toBe(false);
    expect(
      new KojiFault(
        1,
        `<class 'psycopg2.errors.ForeignKeyViolation'>: insert or update on table "build"`,
        "CGImport",
      ).retryable,
    ).toBe(false);
    expect(
      new KojiFault(1, "<class 'psycopg2.OperationalError'>: server closed the connection", "x").retryable,
    ).toBe(true);
    expect(new KojiFault(1, "<class 'psycopg2.errors.SerializationFailure'>: could not", "x").retryable).toBe(
      true,
    );
    expect(new KojiFault(1, "<class 'psycopg2.errors.DeadlockDetected'>: deadlock", "x").retryable).toBe(
      true,
    );
    for (const condition of [
      "AdminShutdown",
      "CrashShutdown",
      "CannotConnectNow",
      "QueryCanceled",
      "LockNotAvailable",
    ]) {
      expect(new KojiFault(1, `<class 'psycopg2.errors.${condition}'>: ...`, "x").retryable, condition).toBe(
        true,
      );
    }
  });

  it("isKojiFault matches by code", () => {
    const fault = new KojiFault(1007, "session expired", "getBuild");
    expect(isKojiFault(fault)).toBe(true);
    expect(isKojiFault(fault, 1007)).toBe(true);
    expect(isKojiFault(fault, 1000)).toBe(false);
    expect(isKojiFault(new Error("x"))).toBe(false);
  });
});
