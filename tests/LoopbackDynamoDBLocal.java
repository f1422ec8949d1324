// DynamoDB Local, bound to 127.0.0.1 on a port the system picks.
//
// DynamoDBLocal.jar has no option for the address: it listens on every
// interface, on a port given in advance. This starts the same server from the
// same command line, with its one connector moved to loopback and port 0, and
// prints the port it got (tests/dynamodb_local.py reads that line). It ends
// when its standard input closes: with the test session that started it, even
// one that was killed.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        ServerConnector connector = (ServerConnector) ((Server) field.get(proxy)).getConnectors()[0];
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        proxy.start();
        System.out.println("listening on 127.0.0.1:" + connector.getLocalPort());
        System.out.flush();
        while (System.in.read() != -1) {}
        proxy.stop();
        System.exit(0);
    }
}
