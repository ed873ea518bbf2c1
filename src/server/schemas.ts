/**
 * Schemas shared by the routes. Response schemas are allowlists: the serializer writes only
 * the properties named here, so a field added to a service result never leaks by itself.
 */
import Type from "typebox";

/** A token's id (`tok_` and a ULID): what Vault calls its accessor. */
export const TokenId = Type.String({ pattern: "^tok_[0-9A-Z]{26}$" });

/** A token's text in a body (revoke or look up by text, AppRole's secret_id): bounded, never echoed. */
export const TokenText = Type.String({ minLength: 1, maxLength: 512 });

/**
 * The one error body.
 *
 * @example
 *   schema: { response: { 404: ErrorSchema } }
 */
export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "A KW_ERR_* code from docs/errors.md." }),
      message: Type.String(),
      requestId: Type.String(),
    }),
  },
  { $id: "Error", description: "Every error response has this shape." },
);

/**
 * Responses every protected route may give besides its own.
 *
 * @example
 *   schema: { response: { 200: Body, ...PROTECTED_ERRORS } }
 */
export const PROTECTED_ERRORS = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  429: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
} as const;

/**
 * Responses a public route that reads a body (unseal, login) may give besides its own:
 * no 403 or 404, since nothing is authorized and the route exists.
 *
 * @example
 *   schema: { body: Body, response: { 200: Status, ...PUBLIC_BODY_ERRORS } }
 */
export const PUBLIC_BODY_ERRORS = {
  400: ErrorSchema,
  401: ErrorSchema,
  429: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
} as const;

/**
 * A string or null.
 *
 * @example
 *   Type.Object({ owner: NullableString })
 */
export const NullableString = Type.Union([Type.String(), Type.Null()]);
/**
 * An integer or null.
 *
 * @example
 *   Type.Object({ restoredFrom: NullableInteger })
 */
export const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

/**
 * `project/env/NAME` path parameters of a secret.
 *
 * @example
 *   app.get("/secrets/:project/:env/:name", { schema: { params: SecretParams } }, handler)
 */
export const SecretParams = Type.Object({
  project: Type.String({ minLength: 1, maxLength: 128 }),
  env: Type.String({ minLength: 1, maxLength: 128 }),
  name: Type.String({ minLength: 1, maxLength: 256 }),
});
