import type { DataSource, EntityManager } from 'typeorm';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import type { AliasMove } from '../domain/alias-history';
import type { ChampionEvaluation, GateDecision, PromotionPolicy, SliceMetrics, Task } from '../domain/policy';
import { type RegistryTables, registryTables } from './tables';

export type VersionStatus = 'registered' | 'pending_approval' | 'rejected' | 'promoted' | 'bad';
export type VersionSource = 'trained' | 'uploaded';

export interface ArtifactRef {
  readonly uri: string;
  readonly sha256: string;
  readonly format: 'onnx';
  readonly sizeBytes: number;
}

export interface SignatureInput {
  readonly name: string;
  readonly dtype: 'float32' | 'string';
  readonly features: readonly string[];
}

export interface SignatureOutput {
  readonly name: string;
  readonly dtype: 'float32' | 'int64';
  readonly shape: readonly number[];
}

export interface VersionSignature {
  readonly inputName: string;
  readonly inputDtype: 'float32' | 'float64';
  readonly featureNames: readonly string[];
  readonly outputName: string;
  readonly inputs?: readonly SignatureInput[];
  readonly outputs?: readonly SignatureOutput[];
}

export interface FeatureViewRef {
  readonly name: string;
  readonly version: number;
}

export interface ModelRecord {
  readonly name: string;
  readonly description: string;
  readonly task: Task;
  readonly owner: string;
  readonly tags: Record<string, string>;
  readonly policy: PromotionPolicy | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface BadMark {
  readonly reason: string;
  readonly by: string;
  readonly at: string;
}

/** A stored gate decision with the alias it was about. */
export type StoredGate = GateDecision & { readonly alias: string; readonly mode: 'automatic' | 'approval' };

export interface NewVersion {
  readonly model: string;
  readonly source: VersionSource;
  readonly trainingRunId: string | null;
  readonly task: Task;
  readonly algorithm: string;
  readonly description: string;
  readonly tags: Record<string, string>;
  readonly artifact: ArtifactRef;
  readonly signature: VersionSignature;
  readonly featureView: FeatureViewRef;
  readonly metrics: Record<string, number>;
  readonly sliceMetrics: SliceMetrics;
  /** The alias's version scored by the trainer on this version's holdout (trained versions only). */
  readonly champion: ChampionEvaluation | null;
  readonly params: Record<string, number | string | boolean>;
  readonly lineage: Record<string, unknown> | null;
  readonly referenceDistributions: Record<string, unknown>;
  readonly predictionDistribution: object | null;
  readonly trainedAt: string | null;
  readonly createdBy: string;
}

export interface VersionRecord extends NewVersion {
  readonly version: number;
  readonly createdAt: string;
  readonly status: VersionStatus;
  readonly gate: StoredGate | null;
  readonly bad: BadMark | null;
}

export interface AliasRecord {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly updatedAt: string;
}

export interface AliasHistoryEntry extends AliasMove {
  readonly id: number;
  readonly model: string;
  readonly alias: string;
  readonly previousVersion: number | null;
  readonly reason: string;
  readonly gate: Record<string, unknown> | null;
  readonly actor: string;
  readonly eventId: string;
  readonly at: string;
}

export interface PromotionRequest {
  readonly id: number;
  readonly model: string;
  readonly version: number;
  readonly alias: string;
  readonly gate: StoredGate;
  readonly status: 'pending' | 'approved' | 'superseded';
  readonly createdAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

export interface DeploymentRecord {
  readonly eventId: string;
  readonly model: string;
  readonly version: number;
  readonly alias: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly instanceId: string;
  readonly promotionEventId: string;
  readonly details: Record<string, unknown>;
  readonly at: string;
}

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly model: string;
  readonly version?: number | null;
  readonly alias?: string | null;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  readonly id: number;
  readonly at: string;
}

export interface VersionFilter {
  readonly model?: string | undefined;
  readonly status?: VersionStatus | undefined;
  readonly alias?: string | undefined;
  readonly tag?: string | undefined;
  readonly metric?: string | undefined;
  readonly metricMin?: number | undefined;
  readonly metricMax?: number | undefined;
  readonly limit: number;
}

export interface ModelFilter {
  readonly name?: string | undefined;
  readonly tag?: string | undefined;
  readonly alias?: string | undefined;
  readonly limit: number;
}

interface ModelRow {
  name: string;
  description: string;
  task: Task;
  owner: string;
  tags: Record<string, string>;
  policy: PromotionPolicy | null;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  model: string;
  version: number;
  source: VersionSource;
  training_run_id: string | null;
  task: Task;
  algorithm: string;
  description: string;
  tags: Record<string, string>;
  artifact: ArtifactRef;
  signature: VersionSignature;
  feature_view: FeatureViewRef;
  metrics: Record<string, number>;
  slice_metrics: SliceMetrics;
  champion: ChampionEvaluation | null;
  params: Record<string, number | string | boolean>;
  lineage: Record<string, unknown> | null;
  reference_distributions: Record<string, unknown>;
  prediction_distribution: object | null;
  trained_at: Date | null;
  created_by: string;
  created_at: Date;
  status: VersionStatus;
  gate: StoredGate | null;
  bad: BadMark | null;
}

interface HistoryRow {
  id: string;
  model: string;
  alias: string;
  version: number;
  previous_version: number | null;
  trigger: AliasMove['trigger'];
  reason: string;
  gate: Record<string, unknown> | null;
  actor: string;
  event_id: string;
  at: Date;
}

interface RequestRow {
  id: string;
  model: string;
  version: number;
  alias: string;
  gate: StoredGate;
  status: PromotionRequest['status'];
  created_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

function modelOf(row: ModelRow): ModelRecord {
  return {
    name: row.name,
    description: row.description,
    task: row.task,
    owner: row.owner,
    tags: row.tags,
    policy: row.policy,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function versionOf(row: VersionRow): VersionRecord {
  return {
    model: row.model,
    version: row.version,
    source: row.source,
    trainingRunId: row.training_run_id,
    task: row.task,
    algorithm: row.algorithm,
    description: row.description,
    tags: row.tags,
    artifact: row.artifact,
    signature: row.signature,
    featureView: row.feature_view,
    metrics: row.metrics,
    sliceMetrics: row.slice_metrics,
    champion: row.champion,
    params: row.params,
    lineage: row.lineage,
    referenceDistributions: row.reference_distributions,
    predictionDistribution: row.prediction_distribution,
    trainedAt: iso(row.trained_at),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    status: row.status,
    gate: row.gate,
    bad: row.bad,
  };
}

function historyOf(row: HistoryRow): AliasHistoryEntry {
  return {
    id: Number(row.id),
    model: row.model,
    alias: row.alias,
    version: row.version,
    previousVersion: row.previous_version,
    trigger: row.trigger,
    reason: row.reason,
    gate: row.gate,
    actor: row.actor,
    eventId: row.event_id,
    at: row.at.toISOString(),
  };
}

function requestOf(row: RequestRow): PromotionRequest {
  return {
    id: Number(row.id),
    model: row.model,
    version: row.version,
    alias: row.alias,
    gate: row.gate,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    decidedBy: row.decided_by,
    decidedAt: iso(row.decided_at),
  };
}

/** `key:value` (or a bare key) of a tag filter. */
function tagFilterOf(tag: string | undefined): { key: string; value: string | null } | null {
  if (tag === undefined) return null;
  const at = tag.indexOf(':');
  return at < 0 ? { key: tag, value: null } : { key: tag.slice(0, at), value: tag.slice(at + 1) };
}

/** The registry's catalog in its Postgres schema. Every write takes the caller's transaction. */
export class CatalogStore {
  readonly tables: RegistryTables;

  constructor(readonly dataSource: DataSource) {
    this.tables = registryTables(schemaOf(dataSource));
  }

  /** Creates the model when it is new; an existing model keeps its description, owner, tags and policy. */
  async ensureModel(
    manager: EntityManager,
    model: { name: string; task: Task; owner: string; description?: string; tags?: Record<string, string> },
    now: Date,
  ): Promise<boolean> {
    const rows = await query<{ name: string }>(
      manager,
      `INSERT INTO ${this.tables.models} (name, description, task, owner, tags, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [model.name, model.description ?? '', model.task, model.owner, JSON.stringify(model.tags ?? {}), now],
    );
    return rows.length === 1;
  }

  async findModel(manager: EntityManager, name: string, lock = false): Promise<ModelRecord | undefined> {
    const row = await queryOne<ModelRow>(
      manager,
      `SELECT * FROM ${this.tables.models} WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return row && modelOf(row);
  }

  async updateModel(
    manager: EntityManager,
    name: string,
    changes: { description?: string; owner?: string; tags?: Record<string, string>; policy?: PromotionPolicy | null },
    now: Date,
  ): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.models}
       SET description = COALESCE($2, description), owner = COALESCE($3, owner), tags = COALESCE($4::jsonb, tags),
           policy = CASE WHEN $5 THEN $6::jsonb ELSE policy END, updated_at = $7
       WHERE name = $1`,
      [
        name,
        changes.description ?? null,
        changes.owner ?? null,
        changes.tags === undefined ? null : JSON.stringify(changes.tags),
        changes.policy !== undefined,
        changes.policy === undefined || changes.policy === null ? null : JSON.stringify(changes.policy),
        now,
      ],
    );
  }

  async listModels(manager: EntityManager, filter: ModelFilter): Promise<ModelRecord[]> {
    const tag = tagFilterOf(filter.tag);
    const rows = await query<ModelRow>(
      manager,
      `SELECT m.* FROM ${this.tables.models} m
       WHERE ($1::text IS NULL OR m.name LIKE '%' || $1 || '%')
         AND ($2::text IS NULL OR (m.tags ? $2 AND ($3::text IS NULL OR m.tags ->> $2 = $3)))
         AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM ${this.tables.aliases} a WHERE a.model = m.name AND a.alias = $4))
       ORDER BY m.name LIMIT $5`,
      [filter.name ?? null, tag?.key ?? null, tag?.value ?? null, filter.alias ?? null, filter.limit],
    );
    return rows.map(modelOf);
  }

  /** Registers a version under the next number (the model row is locked by the caller). Null when the run is known. */
  async insertVersion(
    manager: EntityManager,
    version: NewVersion,
    status: VersionStatus,
    now: Date,
  ): Promise<VersionRecord | null> {
    const rows = await query<VersionRow>(
      manager,
      `INSERT INTO ${this.tables.model_versions}
         (model, version, source, training_run_id, task, algorithm, description, tags, artifact, signature, feature_view,
          metrics, slice_metrics, params, lineage, reference_distributions, prediction_distribution, trained_at,
          created_by, created_at, status, champion)
       SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
              $18, $19, $20, $21
       FROM ${this.tables.model_versions} WHERE model = $1
       ON CONFLICT (training_run_id) DO NOTHING
       RETURNING *`,
      [
        version.model,
        version.source,
        version.trainingRunId,
        version.task,
        version.algorithm,
        version.description,
        JSON.stringify(version.tags),
        JSON.stringify(version.artifact),
        JSON.stringify(version.signature),
        JSON.stringify(version.featureView),
        JSON.stringify(version.metrics),
        JSON.stringify(version.sliceMetrics),
        JSON.stringify(version.params),
        version.lineage === null ? null : JSON.stringify(version.lineage),
        JSON.stringify(version.referenceDistributions),
        version.predictionDistribution === null ? null : JSON.stringify(version.predictionDistribution),
        version.trainedAt,
        version.createdBy,
        now,
        status,
        version.champion === null ? null : JSON.stringify(version.champion),
      ],
    );
    return rows[0] ? versionOf(rows[0]) : null;
  }

  async findVersion(
    manager: EntityManager,
    model: string,
    version: number,
    lock = false,
  ): Promise<VersionRecord | undefined> {
    const row = await queryOne<VersionRow>(
      manager,
      `SELECT * FROM ${this.tables.model_versions} WHERE model = $1 AND version = $2${lock ? ' FOR UPDATE' : ''}`,
      [model, version],
    );
    return row && versionOf(row);
  }

  async findVersionByRun(manager: EntityManager, trainingRunId: string): Promise<VersionRecord | undefined> {
    const row = await queryOne<VersionRow>(
      manager,
      `SELECT * FROM ${this.tables.model_versions} WHERE training_run_id = $1`,
      [trainingRunId],
    );
    return row && versionOf(row);
  }

  async listVersions(manager: EntityManager, filter: VersionFilter): Promise<VersionRecord[]> {
    const tag = tagFilterOf(filter.tag);
    const rows = await query<VersionRow>(
      manager,
      `SELECT v.* FROM ${this.tables.model_versions} v
       WHERE ($1::text IS NULL OR v.model = $1)
         AND ($2::text IS NULL OR v.status = $2)
         AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM ${this.tables.aliases} a
                                          WHERE a.model = v.model AND a.version = v.version AND a.alias = $3))
         AND ($4::text IS NULL OR (v.tags ? $4 AND ($5::text IS NULL OR v.tags ->> $4 = $5)))
         AND ($6::text IS NULL OR v.metrics ? $6)
         AND ($7::float8 IS NULL OR (v.metrics ->> $6)::float8 >= $7)
         AND ($8::float8 IS NULL OR (v.metrics ->> $6)::float8 <= $8)
       ORDER BY v.model, v.version DESC LIMIT $9`,
      [
        filter.model ?? null,
        filter.status ?? null,
        filter.alias ?? null,
        tag?.key ?? null,
        tag?.value ?? null,
        filter.metric ?? null,
        filter.metricMin ?? null,
        filter.metricMax ?? null,
        filter.limit,
      ],
    );
    return rows.map(versionOf);
  }

  async setVersionState(
    manager: EntityManager,
    model: string,
    version: number,
    state: { status?: VersionStatus; gate?: StoredGate; bad?: BadMark },
  ): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.model_versions}
       SET status = COALESCE($3, status), gate = COALESCE($4::jsonb, gate), bad = COALESCE($5::jsonb, bad)
       WHERE model = $1 AND version = $2`,
      [
        model,
        version,
        state.status ?? null,
        state.gate === undefined ? null : JSON.stringify(state.gate),
        state.bad === undefined ? null : JSON.stringify(state.bad),
      ],
    );
  }

  async findAlias(manager: EntityManager, model: string, alias: string): Promise<AliasRecord | undefined> {
    const row = await queryOne<{ model: string; alias: string; version: number; updated_at: Date }>(
      manager,
      `SELECT * FROM ${this.tables.aliases} WHERE model = $1 AND alias = $2`,
      [model, alias],
    );
    return row && { model: row.model, alias: row.alias, version: row.version, updatedAt: row.updated_at.toISOString() };
  }

  async aliasesOf(manager: EntityManager, model: string): Promise<AliasRecord[]> {
    const rows = await query<{ model: string; alias: string; version: number; updated_at: Date }>(
      manager,
      `SELECT * FROM ${this.tables.aliases} WHERE model = $1 ORDER BY alias`,
      [model],
    );
    return rows.map((row) => ({
      model: row.model,
      alias: row.alias,
      version: row.version,
      updatedAt: row.updated_at.toISOString(),
    }));
  }

  /** Points the alias at the version and appends the move to its history. */
  async moveAlias(
    manager: EntityManager,
    move: Omit<AliasHistoryEntry, 'id' | 'at'>,
    now: Date,
  ): Promise<AliasHistoryEntry> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.aliases} (model, alias, version, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
      [move.model, move.alias, move.version, now],
    );
    const rows = await query<HistoryRow>(
      manager,
      `INSERT INTO ${this.tables.alias_history} (model, alias, version, previous_version, trigger, reason, gate, actor, event_id, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [
        move.model,
        move.alias,
        move.version,
        move.previousVersion,
        move.trigger,
        move.reason,
        move.gate === null ? null : JSON.stringify(move.gate),
        move.actor,
        move.eventId,
        now,
      ],
    );
    return historyOf(rows[0] as HistoryRow);
  }

  /** Oldest first; every alias of the model unless one is named. */
  async aliasHistory(manager: EntityManager, model: string, alias?: string): Promise<AliasHistoryEntry[]> {
    const rows = await query<HistoryRow>(
      manager,
      `SELECT * FROM ${this.tables.alias_history} WHERE model = $1 AND ($2::text IS NULL OR alias = $2) ORDER BY id`,
      [model, alias ?? null],
    );
    return rows.map(historyOf);
  }

  /** A new pending request; earlier pending ones for the same alias are superseded. */
  async requestPromotion(
    manager: EntityManager,
    request: { model: string; version: number; alias: string; gate: StoredGate },
    now: Date,
  ): Promise<PromotionRequest> {
    await execute(
      manager,
      `UPDATE ${this.tables.promotion_requests} SET status = 'superseded', decided_at = $3
       WHERE model = $1 AND alias = $2 AND status = 'pending'`,
      [request.model, request.alias, now],
    );
    const rows = await query<RequestRow>(
      manager,
      `INSERT INTO ${this.tables.promotion_requests} (model, version, alias, gate, status, created_at)
       VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING *`,
      [request.model, request.version, request.alias, JSON.stringify(request.gate), now],
    );
    return requestOf(rows[0] as RequestRow);
  }

  async pendingRequest(manager: EntityManager, model: string, version: number): Promise<PromotionRequest | undefined> {
    const row = await queryOne<RequestRow>(
      manager,
      `SELECT * FROM ${this.tables.promotion_requests} WHERE model = $1 AND version = $2 AND status = 'pending'
       ORDER BY id DESC LIMIT 1 FOR UPDATE`,
      [model, version],
    );
    return row && requestOf(row);
  }

  async decideRequest(manager: EntityManager, id: number, decidedBy: string, now: Date): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.promotion_requests} SET status = 'approved', decided_by = $2, decided_at = $3 WHERE id = $1`,
      [id, decidedBy, now],
    );
  }

  async requestsOf(manager: EntityManager, model: string, version: number): Promise<PromotionRequest[]> {
    const rows = await query<RequestRow>(
      manager,
      `SELECT * FROM ${this.tables.promotion_requests} WHERE model = $1 AND version = $2 ORDER BY id`,
      [model, version],
    );
    return rows.map(requestOf);
  }

  /** False when this deployment event was recorded already. */
  async recordDeployment(manager: EntityManager, deployment: DeploymentRecord): Promise<boolean> {
    const touched = await execute(
      manager,
      `INSERT INTO ${this.tables.deployments} (event_id, model, version, alias, outcome, instance_id, promotion_event_id, details, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
      [
        deployment.eventId,
        deployment.model,
        deployment.version,
        deployment.alias,
        deployment.outcome,
        deployment.instanceId,
        deployment.promotionEventId,
        JSON.stringify(deployment.details),
        deployment.at,
      ],
    );
    return touched === 1;
  }

  async deploymentsOf(manager: EntityManager, model: string, version: number): Promise<DeploymentRecord[]> {
    const rows = await query<{
      event_id: string;
      model: string;
      version: number;
      alias: string;
      outcome: 'succeeded' | 'failed';
      instance_id: string;
      promotion_event_id: string;
      details: Record<string, unknown>;
      at: Date;
    }>(manager, `SELECT * FROM ${this.tables.deployments} WHERE model = $1 AND version = $2 ORDER BY at, event_id`, [
      model,
      version,
    ]);
    return rows.map((row) => ({
      eventId: row.event_id,
      model: row.model,
      version: row.version,
      alias: row.alias,
      outcome: row.outcome,
      instanceId: row.instance_id,
      promotionEventId: row.promotion_event_id,
      details: row.details,
      at: row.at.toISOString(),
    }));
  }

  async audit(manager: EntityManager, entry: AuditEntry, now: Date): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.model_audit} (at, actor, action, model, version, alias, reason, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        now,
        entry.actor,
        entry.action,
        entry.model,
        entry.version ?? null,
        entry.alias ?? null,
        entry.reason,
        JSON.stringify(entry.details ?? {}),
      ],
    );
  }

  async auditOf(manager: EntityManager, model: string, limit: number): Promise<AuditRecord[]> {
    const rows = await query<{
      id: string;
      at: Date;
      actor: string;
      action: string;
      model: string;
      version: number | null;
      alias: string | null;
      reason: string;
      details: Record<string, unknown>;
    }>(manager, `SELECT * FROM ${this.tables.model_audit} WHERE model = $1 ORDER BY id DESC LIMIT $2`, [model, limit]);
    return rows.map((row) => ({ ...row, id: Number(row.id), at: row.at.toISOString() }));
  }
}
