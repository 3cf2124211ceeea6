// A small client typed by the generated `api.d.ts` (openapi-typescript): it must type-check
// with `tsc --strict`. Compiled only, never run: the Python test drives the real API.
import type { components, operations, paths } from "./api";

type Schemas = components["schemas"];
type DirectoryPage =
  operations["listOrganisations"]["responses"][200]["content"]["application/json"];
type Problem = Schemas["Problem"];

const base = "http://127.0.0.1:8000";

async function call<T>(method: string, path: string, token: string, body?: unknown,
                       headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    throw new Error(`${problem.status} ${problem.title}: ${problem.detail ?? ""}`);
  }
  return (await response.json()) as T;
}

export async function story(token: string): Promise<string[]> {
  const register: Schemas["RegisterOrganisation"] = {
    kind: "self-organisation",
    name: "Stichting Voorbeeld",
    districts: ["centrum"],
  };
  const created = await call<Schemas["CommandResult"]>("POST", "/organisations", token, register);
  const change: Schemas["UpdateOrganisation"] = { description: "Buurthuis en taalcafé" };
  const updated = await call<Schemas["CommandResult"]>(
    "PATCH", `/organisations/${created.id}`, token, change, { "If-Match": `"${created.version}"` });
  const apply: Schemas["Apply"] = { motivation: "Wij willen meedoen" };
  const applied = await call<Schemas["TransitionResult"]>(
    "POST", `/organisations/${created.id}/membership/apply`, token, apply);
  const status: string = applied.data.status;
  const page = await call<DirectoryPage>("GET", "/organisations?limit=10", token);
  const names: string[] = page.items.map((entry) => `${entry.name} (${entry.membership_status})`);
  const path: keyof paths = "/organisations/{organisation_id}";
  return [path, status, String(updated.version), ...names];
}
