/**
 * Limits per client address, held for the whole cluster: how many connections an address has open, and how
 * much of a budget (sends, new rooms) it used in the current window. Gateways add their usage every fraction of
 * a second and read back the cluster's total, so one address gets the same limits on one gateway or twenty.
 */
export interface AddressLimitStore {
  /**
   * Counts a connection of `address` held by `node`, unless the address already has `max` open across the
   * cluster; resolves false then.
   */
  open(address: string, node: string, max: number): Promise<boolean>;
  /** Uncounts a connection of `address` held by `node`. */
  close(address: string, node: string): Promise<void>;
  /**
   * Re-asserts how many connections `node` holds per address. Counts that are not re-asserted expire (after
   * `CONNECTION_COUNT_TTL_MS`), so a gateway that dies does not keep its addresses' connections counted.
   */
  refresh(node: string, counts: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Adds `usage` (address → amount) of budget `kind` in window `window` (a number per window length) and
   * resolves to the cluster's totals for those addresses in that window.
   */
  add(
    kind: string,
    window: number,
    windowMs: number,
    usage: ReadonlyMap<string, number>,
  ): Promise<Map<string, number>>;
}

/** How long a gateway's connection counts live without being re-asserted. */
export const CONNECTION_COUNT_TTL_MS = 30_000;
/** How often a gateway re-asserts them. */
export const CONNECTION_REFRESH_MS = 10_000;
