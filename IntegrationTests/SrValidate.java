// Validates several SR files in one JVM with PixelMed's DicomSRValidator
// (its command line takes one file and compiles its stylesheets each time).
// Prints "=== <file>" before the report of each file.
import com.pixelmed.validate.DicomSRValidator;

public class SrValidate
{
  public static void main(String[] args) throws Exception
  {
    DicomSRValidator validator = new DicomSRValidator();
    for (String file : args)
    {
      System.out.println("=== " + file);
      try
      {
        System.out.print(validator.validate(file));
      }
      catch (Exception e)
      {
        System.out.println("Error: validator failed: " + e);
      }
    }
  }
}
