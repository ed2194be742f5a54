// The X-Fal-Object-Lifecycle-Preference header's JSON as fal-js writes it
// (libs/client/src/storage.ts, buildObjectLifecycleHeaders): an expiration, an initial ACL, or both.
import { describe, expect, it } from "vitest";
import { validateObjectLifecyclePreference } from "../../generated/validators.js";

describe("ObjectLifecyclePreference (the lifecycle header's JSON)", () => {
  it.each([
    ["an expiration alone", { expiration_duration_seconds: 3600 }],
    ["no expiration (null)", { expiration_duration_seconds: null }],
    ["an initial ACL alone", { initial_acl: { default: "forbid" } }],
    ["both, with a rule per user", { expiration_duration_seconds: 86400, initial_acl: { default: "hide", rules: [{ user: "user_2b7fd0", decision: "allow" }] } }],
  ])("takes %s, as fal-js sends it", (_, preference) => {
    expect(validateObjectLifecyclePreference(preference), JSON.stringify(validateObjectLifecyclePreference.errors)).toBe(true);
  });

  it.each([
    ["nothing at all", {}],
    ["an expiration of 0", { expiration_duration_seconds: 0 }],
    ["a decision fal-js does not have", { initial_acl: { default: "maybe" } }],
    ["a rule with no user", { initial_acl: { rules: [{ decision: "allow" }] } }],
    ["a field fal-js does not write", { initial_acl: { default: "allow" }, public: true }],
  ])("refuses %s", (_, preference) => {
    expect(validateObjectLifecyclePreference(preference)).toBe(false);
  });
});
