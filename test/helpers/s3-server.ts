export { startS3Server, type S3Server } from '../../electron/tools/local-s3.js';
