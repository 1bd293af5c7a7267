/**
 * Access: who the caller is and what they may read or do. Used by the server (src/server) and by the
 * cost capability (src/cost), so neither capability imports the server.
 */
export { canReadTeam, canWriteTeam, type ApiEnv, type Caller } from './caller.js';
export { asTeam, isTeamMember, readSubjects, resolveCaller, type RoleGroups, type Subject } from './membership.js';
