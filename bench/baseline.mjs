// A baseline build for a bench that compares against an earlier commit in the same run: the commit
// checked out in a temporary git worktree, with this checkout's node_modules, built with tsc. The
// worktree is removed by `remove()`.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Builds `commit` (any git revision) apart; gives its dist folder and how to remove it. */
export async function buildBaseline(commit) {
  const dir = join(await mkdtemp(join(tmpdir(), "flux-baseline-")), "tree");
  const git = (...args) => execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] }).toString().trim();
  const sha = git("rev-parse", "--verify", `${commit}^{commit}`);
  git("worktree", "add", "--detach", dir, sha);
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
  return {
    sha: sha.slice(0, 7),
    dist: join(dir, "dist"),
    remove: async () => {
      git("worktree", "remove", "--force", dir);
      await rm(join(dir, ".."), { recursive: true, force: true });
    },
  };
}

/** The `--baseline REV` argument of a bench, or undefined. */
export function baselineArgument(argv = process.argv.slice(2)) {
  const at = argv.indexOf("--baseline");
  return at >= 0 ? argv[at + 1] : undefined;
}
